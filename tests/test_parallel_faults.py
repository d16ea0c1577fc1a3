"""The parallel runner when a Dask worker freezes: the run stops with an error naming the
solves it lost, instead of waiting for ever."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from commissionopt.data.load import load_instance
from commissionopt.runs.parallel import ParallelRunError, local_cluster, run_tasks
from commissionopt.runs.sweep import parse_cuts, sweep_tasks

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"


@pytest.mark.slow  # a local Dask cluster
def test_a_frozen_worker_stops_the_run_naming_the_lost_solves():
    from distributed import Client
    inst = load_instance(TINY)
    cluster = local_cluster(2)
    client = Client(cluster, set_as_default=False)
    pids = list(client.run(os.getpid).values())
    frozen: list = []

    def freeze_one(_):
        if not frozen:  # mid-run: SIGSTOP one worker process (its batch in hand)
            os.kill(pids[0], signal.SIGSTOP)
            frozen.append(time.monotonic())

    try:
        with pytest.raises(ParallelRunError) as err:
            run_tasks(inst, sweep_tasks(parse_cuts("0:0.5:0.02")), scheduler=cluster.scheduler_address,
                      progress=freeze_one, heartbeat_timeout=8)
        waited = time.monotonic() - frozen[0]
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        client.close()
        cluster.close()
    message = str(err.value)
    assert err.value.exit_code == 1
    assert "frozen or unreachable" in message and "for 8 s" in message
    assert "at cut" in message and ("salami" in message or "redesign" in message), message
    assert waited < 8 + 20, waited  # the timeout and a little, not for ever
