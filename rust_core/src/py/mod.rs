//! The Python module `dros._core`. Each area registers its own functions; this file only wires.

use pyo3::prelude::*;

mod array;
mod dicom;
mod errors;
mod hard_stop;
mod imaging;
mod phantom;
mod pool;
mod uid;

pub(crate) use errors::run_detached;

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("build_profile", build_profile())?;
    m.add("rustc_version", option_env!("DROS_RUSTC_VERSION").unwrap_or("unknown"))?;
    m.add("git_commit", option_env!("DROS_GIT_COMMIT").unwrap_or("00000000"))?;
    m.add("build_time", option_env!("DROS_BUILD_TIME").unwrap_or(""))?;
    errors::init_pymodule(m)?;
    uid::init_pymodule(m)?;
    dicom::init_pymodule(m)?;
    imaging::init_pymodule(m)?;
    phantom::init_pymodule(m)?;
    pool::init_pymodule(m)?;
    hard_stop::init_pymodule(m)?;
    Ok(())
}

fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}
