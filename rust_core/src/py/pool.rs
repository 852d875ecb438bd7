//! rayon's global pool as the service sees it: which OS threads it runs on, so the service can
//! give them a lower scheduling priority than its event loop (Linux keeps the nice value per thread).

use pyo3::prelude::*;

/// The OS thread id of every thread of rayon's global pool (started here if it was not), each
/// named `dros-imaging` for `top -H` and py-spy. Empty where `/proc/thread-self` does not exist.
#[pyfunction(name = "imaging_pool_thread_ids")]
fn imaging_pool_thread_ids(py: Python<'_>) -> Vec<u32> {
    py.detach(|| {
        rayon::broadcast(|_| {
            // best effort: a name is a diagnostic, the id is what matters
            let _ = std::fs::write("/proc/thread-self/comm", "dros-imaging");
            let link = std::fs::read_link("/proc/thread-self").ok()?;
            link.file_name()?.to_str()?.parse::<u32>().ok()
        })
        .into_iter()
        .flatten()
        .collect()
    })
}

pub(crate) fn init_pymodule(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(imaging_pool_thread_ids, m)?)?;
    Ok(())
}
