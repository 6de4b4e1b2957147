"""The Python training worker: polls the `training` task queue (EVNI_TRAINING_TASK_QUEUE) of the
Temporal server at TEMPORAL_ADDRESS (namespace TEMPORAL_NAMESPACE) and runs the fine-tuning
activities (fine_tune.py) on one thread each. `npm start` starts it with the project's venv
(.tools/models-venv, models/training/requirements.txt); run it by hand with
  .tools/models-venv/bin/python models/training/worker/main.py
SIGINT/SIGTERM stop it (a running training attempt is cancelled and resumes elsewhere from its checkpoint).
"""
import asyncio
import concurrent.futures
import os
import signal
import sys
from datetime import timedelta

sys.path.insert(0, os.path.dirname(__file__))
from temporalio.client import Client  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from fine_tune import ACTIVITIES, log  # noqa: E402


async def main():
    address = os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233")
    namespace = os.environ.get("TEMPORAL_NAMESPACE", "default")
    queue = os.environ.get("EVNI_TRAINING_TASK_QUEUE", "training")
    # One training at a time by default: each takes a core (torch runs on one thread).
    concurrency = int(os.environ.get("EVNI_TRAINING_CONCURRENCY", "1"))
    client = await Client.connect(address, namespace=namespace)
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as executor:
        worker = Worker(client, task_queue=queue, activities=ACTIVITIES, activity_executor=executor,
                        max_concurrent_activities=concurrency, graceful_shutdown_timeout=timedelta(seconds=5),
                        # Each epoch's heartbeat reaches the server within a second (the SDK's default
                        # throttle, 80 % of the heartbeat timeout, would hide most epochs from the GET).
                        max_heartbeat_throttle_interval=timedelta(seconds=1), default_heartbeat_throttle_interval=timedelta(seconds=1))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: asyncio.ensure_future(worker.shutdown()))
        log("training worker running", taskQueue=queue, temporal=address, namespace=namespace, pid=os.getpid())
        await worker.run()
    log("training worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
