"""Export an account's credit actions to JSON Lines; if killed, run it again to continue.

::

    export THOUGHTCREDITS_BASE_URL=https://acme.thoughtindustries.com
    export THOUGHTCREDITS_API_KEY=...
    python examples/resumable_export.py --client-id CLIENT_ID --account-id ACCOUNT_ID \\
        --action-type debit --output debits.jsonl

Every ``--checkpoint-every`` items it saves ``paginator.checkpoint`` and the output's length
to ``debits.jsonl.checkpoint``. A rerun cuts the output back to that length and continues with
``resume_from=``, so however the process died, each action is in the file exactly once, in
order. The checkpoint file is removed when the export is complete.

``--stop-after N`` kills the process (SIGKILL) after writing N items, to try resuming out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import IO, Any

import thoughtcredits as tc

# A checkpoint points into a page, so every run must ask for the same page size.
PAGE_SIZE = 100


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--account-id", required=True)
    parser.add_argument("--action-type", default="debit", help="e.g. debit or credit")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--checkpoint-every", type=int, default=100, metavar="N")
    parser.add_argument("--stop-after", type=int, metavar="N", help="SIGKILL after N items")
    return parser.parse_args(argv)


class Checkpoint:
    """Where the export got to: a resume token and how many output bytes it accounts for."""

    def __init__(self, path: Path, job: dict[str, str]) -> None:
        self.path = path
        self.job = job

    def load(self) -> tuple[str | None, int]:
        """The saved ``(resume_from, output_length)``, or ``(None, 0)`` for a fresh start."""
        if not self.path.exists():
            return None, 0
        saved: dict[str, Any] = json.loads(self.path.read_text())
        if saved["job"] != self.job:
            raise SystemExit(f"{self.path} belongs to another export; delete it to start over")
        return saved["resume_from"], saved["offset"]

    def save(self, resume_from: str | None, out: IO[bytes]) -> None:
        """Record the position once the output up to it is safely on disk."""
        out.flush()
        os.fsync(out.fileno())
        state = {"job": self.job, "resume_from": resume_from, "offset": out.tell()}
        partial = self.path.with_name(self.path.name + ".part")
        with partial.open("w") as file:
            json.dump(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, self.path)  # atomic: a crash leaves the old or the new checkpoint

    def remove(self) -> None:
        """Forget the checkpoint: the export is complete."""
        self.path.unlink(missing_ok=True)


async def export(args: argparse.Namespace) -> int:
    """Write every remaining action to the output; return how many this run wrote."""
    job = {"client_id": args.client_id, "account_id": args.account_id, "type": args.action_type}
    checkpoint = Checkpoint(args.output.with_name(args.output.name + ".checkpoint"), job)
    resume_from, offset = checkpoint.load()
    if offset and (not args.output.exists() or args.output.stat().st_size < offset):
        raise SystemExit(f"{args.output} is shorter than {checkpoint.path} says; delete both")
    written = 0
    with args.output.open("r+b" if offset else "wb") as out:
        # Lines written after the last checkpoint are cut off; they are fetched again.
        out.truncate(offset)
        out.seek(offset)
        async with tc.Client() as client:
            actions = client.credit_actions.list(
                args.client_id,
                args.account_id,
                action_type=args.action_type,
                resume_from=resume_from,
                page_size=PAGE_SIZE,
            )
            async for action in actions:
                out.write(tc.to_json(action) + b"\n")
                written += 1
                if written == args.stop_after:
                    out.flush()
                    os.kill(os.getpid(), signal.SIGKILL)
                if written % args.checkpoint_every == 0:
                    checkpoint.save(actions.checkpoint, out)
        out.flush()
        os.fsync(out.fileno())
    checkpoint.remove()
    return written


def main(argv: list[str] | None = None) -> int:
    """Run the export; return the exit code."""
    args = parse_args(argv)
    try:
        written = asyncio.run(export(args))
    except tc.ThoughtCreditsError as error:
        print(f"export stopped: {error}; run again to resume", file=sys.stderr)
        return 1
    print(f"wrote {written} {args.action_type} actions; {args.output} is complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
