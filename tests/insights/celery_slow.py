"""Celery app for the worker-kill test: the real app, a slow fake embedder.

Started as ``celery -A tests.insights.celery_slow worker``; each ``encode`` call
sleeps so a run is still embedding when the test kills the worker.
"""

import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kb.settings")
django.setup()

from django.conf import settings  # noqa: E402

from insights import services  # noqa: E402
from insights.embeddings import FakeEmbedder  # noqa: E402
from kb.celery import app  # noqa: E402, F401


class SlowFakeEmbedder(FakeEmbedder):
    def encode(self, texts):
        time.sleep(float(os.environ.get("SLOW_EMBED_SECONDS", "0.3")))
        return super().encode(texts)


# get_embedder() caches by (class, model name, path): seed it with the slow one.
services._embedders[
    (
        settings.KB_EMBEDDER,
        settings.KB_EMBEDDING_MODEL,
        settings.KB_EMBEDDING_MODEL_PATH,
    )
] = SlowFakeEmbedder(model_name=settings.KB_EMBEDDING_MODEL)
