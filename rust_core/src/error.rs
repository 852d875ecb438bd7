//! The one error type of the pure core. Messages name the rule that was broken, so the
//! Python exception raised from it is self-explanatory.

use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A DICOM UID (or UID root) violates PS3.5 §9.
    #[error("invalid UID {uid:?}: {rule}")]
    InvalidUid { uid: String, rule: &'static str },
    /// Input that is well-typed but outside what the operation accepts.
    #[error("{0}")]
    InvalidArgument(String),
    /// A DX metadata attribute that the DICOM rules (VR or IOD) reject; `field` is the
    /// `DxMetadata` attribute name.
    #[error("invalid DX metadata {field}: {reason}")]
    InvalidMetadata { field: String, reason: String },
    /// The DICOM library refused to build or encode the object (not an I/O failure).
    #[error("DICOM encoding failed: {0}")]
    Encoding(String),
    /// File-system failure while writing an output.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

pub type CoreResult<T> = Result<T, CoreError>;
