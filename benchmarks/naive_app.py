"""The naive baseline: sentence-transformers in a plain FastAPI route, exact FAISS search, no cache.

What a first version would look like: embed the query with PyTorch on every request, search, look
the chunks' articles up. Usage: python benchmarks/naive_app.py INDEX_DIR PORT
(INDEX_DIR built by the sentence-transformers embedder).
"""

import sqlite3
import sys

import faiss
import uvicorn
from fastapi import FastAPI
from sentence_transformers import SentenceTransformer

from kbsuggest.embed.models import minilm_path

index_dir, port = sys.argv[1], int(sys.argv[2])
model = SentenceTransformer(str(minilm_path()), device="cpu")
index = faiss.read_index(f"{index_dir}/faiss.index")
db = sqlite3.connect(f"{index_dir}/kb.db", check_same_thread=False)
chunk_article = [row[0] for row in db.execute("select article_id from chunks order by id")]
app = FastAPI()


@app.get("/readyz")
def readyz():
    return {"status": "ready"}


@app.get("/v1/suggest")
def suggest(q: str, k: int = 3):
    vector = model.encode([q], normalize_embeddings=True)
    scores, rows = index.search(vector, 32)
    found, seen = [], set()
    for score, row in zip(scores[0], rows[0]):
        article = chunk_article[row]
        if row >= 0 and article not in seen and score >= 0.3:
            seen.add(article)
            title, url = db.execute("select title, url from articles where id = ?", (article,)).fetchone()
            found.append({"article_id": article, "title": title, "url": url, "score": float(score)})
    return {"query": q, "suggestions": found[:k]}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
