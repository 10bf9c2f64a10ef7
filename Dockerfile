# kbsuggest: one container, one folder of Markdown, no external service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 \
    KBSUGGEST_INDEX_DIR=/app/var/index KBSUGGEST_DB_PATH=/app/var/kbsuggest.db KBSUGGEST_HOST=0.0.0.0
WORKDIR /app

# CPU-only PyTorch first, pinned, so nothing pulls the CUDA builds.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY kbsuggest ./kbsuggest
COPY indexing ./indexing
COPY evaluation ./evaluation
RUN pip install --no-cache-dir '.[model]'

COPY articles ./articles
RUN useradd --system --uid 10001 --home /app kbsuggest \
    && kbsuggest index articles \
    && chown -R kbsuggest /app/var
USER kbsuggest

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["kbsuggest", "serve"]
