//! worker-light: runs `light` tasks on the always-on VM, one at a time by default, and fires
//! the schedules. Everything is in the queue-worker library; this file only picks the
//! defaults (see docs/workers.md).

use std::process::ExitCode;

fn main() -> ExitCode {
    queue_worker::main(queue_worker::Defaults::light())
}
