"""Event-loop time of N clients resuming from one old position of a session with a full patch log.

    python bench/resume_replays.py [--clients 100]

In process (no sockets): a session whose log holds ~1 MiB of changes (PATCH_LOG_BYTES),
then ``--clients`` distinct clients each sending RESUME-REQ from the log's oldest position,
as after a network blip. Prints the time per resume with the process's bound of kept
encodings (the server's, ``SessionRegistry.encoded_documents``) and without it (each
replay built and encoded again).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docsync.document import Document  # noqa: E402
from docsync.document.models import Column, Div  # noqa: E402
from docsync.protocol import RESUME_REQ, new_message  # noqa: E402
from docsync.sync.encoded_documents import EncodedDocuments  # noqa: E402
from docsync.sync.sequencer import Sequencer  # noqa: E402


def run(clients: int, kept: bool) -> None:
    document = Document()
    text = Div(text="")
    document.add_root(Column(text))
    sequencer = Sequencer(
        document,
        allow_client_structure=False,
        log_entries=1000,
        log_bytes=1 << 20,
        max_client_models=10,
        max_array_elements=10**6,
        filling=True,
        encodings=EncodedDocuments() if kept else None,
    )
    sequencer.restart()
    for i in range(1000):  # ~1 KB a change: the log keeps what fits in 1 MiB
        text.text = f"{i:06d}" + "x" * 1000
        sequencer.flush()
    last_seq = sequencer.log.first_seq - 1
    start = time.thread_time()
    for n in range(clients):
        content = {"last_seq": last_seq, "client_id": f"c{n}", "incarnation": sequencer.incarnation}
        request = new_message(RESUME_REQ, content)
        reply = sequencer.resume(f"c{n}", request, created_session=False).reply
        size = sum(len(frame) for frame in reply.to_frames())
    spent = time.thread_time() - start
    print(
        f"{'kept' if kept else 'not kept'}: {clients} resumes from position {last_seq} "
        f"({reply.content['mode']}, {size / 1e6:.2f} MB each): {spent / clients * 1e3:.2f} ms of the loop per client"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    args = parser.parse_args()
    for kept in (False, True, False, True):
        run(args.clients, kept)


if __name__ == "__main__":
    main()
