# livegrad's server, CPU only: docker compose up (see docker-compose.yml) or
#   docker build -t livegrad . && docker run -p 127.0.0.1:8000:8000 -v livegrad-data:/data \
#     -e LIVEGRAD_ALLOW_NO_TOKEN=1 livegrad     (loopback only; else -e LIVEGRAD_ACCESS_TOKEN=...)
# The server binds 0.0.0.0 in the container, so it refuses to start without a token unless told.
# The web UI's npm libraries (uPlot), exactly as web/package-lock.json pins them.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    LIVEGRAD_DATA_DIR=/data

WORKDIR /app

# torch first, the CPU build from PyTorch's own index, at the version constraints.txt pins
# (2.13.0+cpu satisfies torch==2.13.0), so that the resolver below never picks another torch.
COPY constraints.txt ./
RUN pip install --index-url https://download.pytorch.org/whl/cpu \
        "torch==$(sed -n 's/^torch==//p' constraints.txt)"

# The source, installed editable: the server finds web/ and its migrations beside itself.
COPY pyproject.toml README.md ./
COPY engine engine
COPY server server
COPY web web
COPY --from=web /web/node_modules web/node_modules
RUN pip install -c constraints.txt -e . \
    && python -c "import torch; assert torch.__version__.endswith('+cpu'), torch.__version__"

RUN useradd --system --uid 1000 --home-dir /app livegrad \
    && mkdir -p /data && chown livegrad /data
USER livegrad
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD python -c "import os, urllib.request as u; t = os.environ.get('LIVEGRAD_ACCESS_TOKEN'); u.urlopen(u.Request('http://127.0.0.1:8000/api/v1/health', headers={'Authorization': 'Bearer ' + t} if t else {}), timeout=2)"

# 0.0.0.0 inside the container; publish the port on the host's loopback (see compose).
CMD ["livegrad", "serve", "--host", "0.0.0.0", "--port", "8000", "--data-dir", "/data"]
