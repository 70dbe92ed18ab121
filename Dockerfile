# One image for the web app and the Celery workers.
FROM python:3.11-slim-bookworm

# Static files are part of the image (collected at build, below), outside the var volume,
# which would otherwise keep a previous image's files.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    PIP_NO_CACHE_DIR=1 CONCORDANCE_VAR_DIR=/var/lib/concordance DJANGO_STATIC_ROOT=/app/static
WORKDIR /app

COPY requirements.txt .
RUN pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
    && pip install -r requirements.txt

COPY . .
# A build-time key only so that the settings load without writing one into the image;
# the containers get DJANGO_SECRET_KEY from compose.
RUN DJANGO_SECRET_KEY=collectstatic-at-build-time-only python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --create-home concordance \
    && mkdir -p /var/lib/concordance && chown -R concordance /var/lib/concordance
USER concordance

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
