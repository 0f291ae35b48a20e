# Backorder connector: `docker run IMAGE` serves the web app; `docker run IMAGE worker` runs a worker.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY connector ./connector
COPY webhooks ./webhooks
RUN pip install . && useradd --create-home --uid 10001 connector && mkdir -p /app/data && chown connector /app/data
USER connector
EXPOSE 8000
ENTRYPOINT ["connector"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
