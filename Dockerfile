# One image for the three app processes; docker-compose.yml picks each one's command
# (python -m api, python worker.py, python -m simulator).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, read from pyproject.toml alone, so a code change rebuilds only the layers
# below. Runtime dependencies only: no dev or server extras in the image.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Source by name: .data/ (local secrets, SQLite) and .env never get into the image, whatever
# .dockerignore says.
COPY config ./config
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY simulator ./simulator
# The marketplaces' OpenAPI documents: the simulator names fault operations by their ids.
COPY specs ./specs
COPY cli ./cli
COPY worker.py ./

# Installed as well, for the console scripts (marketplace-jobs-worker, marketplace-jobs-sign);
# the copy in /app stays because the worker runs as `python worker.py`.
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# A fixed numeric UID, so orchestrators can check runAsNonRoot without resolving names.
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app
USER 10001:10001

EXPOSE 8000 8081
CMD ["python", "-m", "api"]
