# kbsuggest: one container, one folder of Markdown, no external service (or, with compose.yaml, a fleet of
# replicas on PostgreSQL: the runtime stage has the `fleet` extra, used only when KBSUGGEST_DATABASE_URL is set).
# Two stages: the build stage has PyTorch to export the ONNX model and index the articles; the
# runtime stage serves with onnxruntime + tokenizers only (no torch: a smaller image, ~200 MB RSS).

FROM python:3.11-slim AS build
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 KBSUGGEST_MODELS_DIR=/app/models
WORKDIR /app
# CPU-only PyTorch first, pinned, so nothing pulls the CUDA builds.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY kbsuggest ./kbsuggest
COPY indexing ./indexing
COPY evaluation ./evaluation
COPY gaps ./gaps
COPY tickets ./tickets
RUN pip install --no-cache-dir '.[model]'
COPY articles ./articles
RUN kbsuggest models export --no-check && kbsuggest index articles

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 \
    KBSUGGEST_INDEX_DIR=/app/var/index KBSUGGEST_DB_PATH=/app/var/kbsuggest.db KBSUGGEST_HOST=0.0.0.0 \
    KBSUGGEST_EMBEDDER=onnx KBSUGGEST_MODELS_DIR=/app/models
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kbsuggest ./kbsuggest
COPY indexing ./indexing
COPY evaluation ./evaluation
COPY gaps ./gaps
COPY tickets ./tickets
RUN pip install --no-cache-dir '.[fleet,s3]'
COPY articles ./articles
# The model file that built the index (its sha256 is in the manifest) and the index itself.
COPY --from=build /app/models ./models
COPY --from=build /app/var/index ./var/index
# The service user owns the index and the KB folder: the admin API rewrites both.
RUN useradd --system --uid 10001 --home /app kbsuggest && chown -R kbsuggest /app/var /app/articles
USER kbsuggest

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["kbsuggest", "serve"]
