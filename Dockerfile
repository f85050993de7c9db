# Pivot as a container: the package installed (not a checkout), one process a container.
# HTTP mode by default; set SLACK_APP_TOKEN for Socket Mode (then no port is needed).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PORT=3000 PIVOT_DATA_DIR=/data
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY enrichment enrichment
COPY templates templates
RUN pip install . && rm -rf /src && useradd --create-home pivot && mkdir /data && chown pivot /data
USER pivot
WORKDIR /home/pivot
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['PORT'], timeout=2)"
CMD ["python", "-m", "bot", "serve"]
