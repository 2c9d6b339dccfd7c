# lungsign: one image for the web and worker processes (CPU torch by default).
FROM python:3.11-slim-bookworm

RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/lungsign
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 LUNGSIGN_DATA_DIR=/data

# CPU build of torch first, so the project's torch range never pulls a CUDA build.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY models ./models
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN pip install --no-cache-dir -e .

RUN useradd --system --home /srv/lungsign lungsign && mkdir -p /data && chown lungsign /data
USER lungsign
VOLUME ["/data"]
EXPOSE 8000
CMD ["lungsign", "serve", "--host", "0.0.0.0", "--port", "8000"]
