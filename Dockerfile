# One image for the api and the worker (docker-compose chooses the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY store store
COPY providers providers
COPY workflows workflows
COPY activities activities
COPY api api
COPY templates templates
COPY settings.py worker.py devstack.py ./
RUN pip install . && useradd --system --home /app mailmarket
USER mailmarket
EXPOSE 8000
CMD ["uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
