"""Offline evaluation: replay historical tickets keystroke by keystroke and measure deflection."""
