"""The Celery worker that provisions Odoo containers and their databases."""

import os

from celery import Celery

celery_app = Celery("instances", broker=os.environ.get("CELERY_BROKER_URL", "amqp://rabbitmq//"))


@celery_app.task
def provision(instance_id: str) -> str:
    import docker

    client = docker.from_env()
    return f"{instance_id} on {client.info()['Name']}"
