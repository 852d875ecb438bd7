//! The worker's last resort when its supervisor is gone: a native thread, so it runs even when
//! no Python code can (a CI run caught granian's worker deadlocked on the GIL during shutdown,
//! with `dros.runtime.parent_watch`'s Python watchdog unable to arm its alarm).

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| PyValueError::new_err(format!("{name} must be a positive number of seconds, not {value}")))
}

/// Start a thread that ends this process with SIGKILL `grace_s` after its parent stops being
/// `parent_pid`, checking every `poll_s`. The graceful stop gets the whole grace; this thread
/// only acts on a process that is still there after it.
#[pyfunction(name = "kill_when_parent_gone")]
fn kill_when_parent_gone(parent_pid: u32, grace_s: f64, poll_s: f64) -> PyResult<()> {
    let grace = seconds("grace_s", grace_s)?;
    let poll = seconds("poll_s", poll_s)?;
    std::thread::Builder::new()
        .name("dros-hard-stop".into())
        .spawn(move || {
            while std::os::unix::process::parent_id() == parent_pid {
                std::thread::sleep(poll);
            }
            std::thread::sleep(grace);
            // SAFETY: kill(2) on our own pid has no memory effects; the process ends here.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        })
        .map_err(|e| pyo3::exceptions::PyOSError::new_err(e.to_string()))?;
    Ok(())
}

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(kill_when_parent_gone, m)?)?;
    Ok(())
}
