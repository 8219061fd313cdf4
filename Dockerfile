# Kaizen Studio images.
#
# Target `api`: one published model's REST API. Its build context holds this Dockerfile, the
# `services` package and the bundle `kaizen publish --bundle` wrote; `kaizen publish --image
# TAG` stages exactly that and builds it. By hand, from the project root with the bundle
# inside it:  docker build --target api --build-arg BUNDLE=path/to/bundle -t TAG .
#
# Target `app`: the Streamlit studio, its data in the /data volume:
#   docker build --target app -t kaizen-studio . && docker run -p 8501:8501 -v kaizen:/data kaizen-studio

ARG PYTHON_IMAGE=python:3.11-slim

# ---- the model's packages, in a virtual environment (pip and its caches stay here)
FROM ${PYTHON_IMAGE} AS api-builder
ARG BUNDLE=bundle
# pip trusts the system's CA store: the one in the image, or the host's mounted over it when a
# TLS-inspecting proxy stands between the build and the package index.
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY ${BUNDLE}/requirements.txt /tmp/requirements.txt
# The bundle pins every package the model and the server import, their dependencies included:
# nothing is resolved here, so the image runs the versions the model was trained with. The
# packages' own test suites (a sixth of the size) and pip itself are not needed to serve.
RUN /opt/venv/bin/pip install --no-deps --only-binary=:all: -r /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall --yes pip setuptools \
    && find /opt/venv -depth -type d -name tests -exec rm -rf {} +

# ---- the API: the venv, the services package and the bundle; non-root, no build tools
FROM ${PYTHON_IMAGE} AS api
ARG BUNDLE=bundle
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin kaizen
COPY --from=api-builder /opt/venv /opt/venv
WORKDIR /srv
COPY services/ /srv/services/
RUN python -m compileall -q /srv/services
COPY ${BUNDLE}/ /bundle/
# PyCaret opens a log file in the working directory when it is imported: not in read-only /srv.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KAIZEN_HOME=/tmp/kaizen \
    PYCARET_CUSTOM_LOGGING_PATH=/tmp/pycaret.log \
    PYCARET_CUSTOM_LOGGING_LEVEL=WARNING
USER kaizen
EXPOSE 8000
# No curl in a slim image: Python asks /health.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["python", "-m", "services.serving", "--host", "0.0.0.0", "--port", "8000", "--bundle", "/bundle"]

# ---- the studio's locked dependencies (uv.lock, no dev tools), the project installed in place
FROM ${PYTHON_IMAGE} AS app-builder
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_SYSTEM_CERTS=1 \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
RUN python -m venv /opt/uv && /opt/uv/bin/pip install uv==0.13.9
WORKDIR /srv
COPY pyproject.toml uv.lock README.md ./
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-install-project
COPY app.py alembic.ini ./
COPY .streamlit/config.toml .streamlit/config.toml
COPY services/ services/
COPY views/ views/
COPY migrations/ migrations/
RUN /opt/uv/bin/uv sync --frozen --no-dev

# ---- the studio: Streamlit on 8501, its home (database, datasets, MLflow) in the /data volume
FROM ${PYTHON_IMAGE} AS app
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin kaizen \
    && mkdir /data && chown kaizen /data
COPY --from=app-builder /opt/venv /opt/venv
COPY --from=app-builder /srv /srv
WORKDIR /srv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    KAIZEN_HOME=/data \
    PYCARET_CUSTOM_LOGGING_PATH=/tmp/pycaret.log \
    PYCARET_CUSTOM_LOGGING_LEVEL=WARNING
VOLUME /data
USER kaizen
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["sh", "-c", "kaizen init && exec streamlit run app.py --server.address 0.0.0.0 --server.port 8501"]
