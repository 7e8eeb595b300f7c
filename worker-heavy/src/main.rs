//! worker-heavy: runs `heavy` tasks on the MacBook, several at once by default. Everything is
//! in the queue-worker library; this file only picks the defaults (see docs/workers.md).

use std::process::ExitCode;

fn main() -> ExitCode {
    queue_worker::main(queue_worker::Defaults::heavy())
}
