//! Digital X-Ray (DX) Part-10 files: SOP classes Digital X-Ray Image Storage – For Presentation
//! (1.2.840.10008.5.1.4.1.1.1.1) and – For Processing (…1.1.1.1.1), written with dicom-object in
//! Explicit VR Little Endian or RLE Lossless (our Annex G encoder in [`super::rle`]).
//!
//! The modules filled are those of the DX IOD (PS3.3 A.26): Patient (with the non-human
//! attributes for VETDROS), General Study, General Series, DX Series, General Equipment,
//! General Image, General Anatomy (Anatomic Region), Image Pixel, Acquisition Context, DX Anatomy
//! Imaged, DX Image, DX Detector, DX Positioning (when a view position is given), X-Ray
//! Acquisition Dose / X-Ray Generation (exposure), VOI LUT (For Presentation only) and SOP Common.
//! Which attributes dciodvfy insists on, and which combinations it rejects, is documented in
//! shared/dicom/DX-checklist.md; the comments below cite those rules where they shape the code.
//!
//! Every value is checked against its VR before anything is written, so bad metadata fails with
//! an error naming the field and the rule instead of producing a file that a PACS rejects.
//!
//! Layout: [`vr`] checks each value against its VR, [`dataset`] builds the data set module by
//! module, [`writer`] writes the Part-10 file (pixel data streamed, temporary name, rename).

use dicom_dictionary_std::uids;

use crate::error::{CoreError, CoreResult};

mod dataset;
mod vr;
mod writer;

pub use dataset::build_dataset;
pub use writer::write_dicom;

/// Identifies this implementation in the file meta group (PS3.10 §7.1): a fixed UUID-derived UID
/// (PS3.5 §B.2), so it needs no registered root and never changes between releases.
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.152841562474733092563702358395271398621";
/// At most 16 characters (SH).
pub const IMPLEMENTATION_VERSION_NAME: &str = concat!("DROS_", env!("CARGO_PKG_VERSION"));

/// A coded concept (PS3.3 Table 8.8-1 Code Sequence Macro, the three basic attributes).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "python", derive(pyo3::FromPyObject))]
pub struct CodeItem {
    pub code_value: String,
    pub coding_scheme_designator: String,
    pub code_meaning: String,
}

/// One item of the Request Attributes Sequence (0040,0275), PS3.3 Table 10-9: the order (IHE
/// Scheduled Workflow) an image was acquired for, as the modality worklist gave it. Requested
/// Procedure ID and Scheduled Procedure Step ID are Type 1C there: required, since an item exists
/// only for a scheduled procedure.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "python", derive(pyo3::FromPyObject))]
pub struct RequestAttributes {
    pub requested_procedure_id: String,
    pub scheduled_procedure_step_id: String,
    pub accession_number: String,
    pub requested_procedure_description: String,
    pub requested_procedure_code: Option<CodeItem>,
    pub scheduled_procedure_step_description: String,
    pub scheduled_protocol_codes: Vec<CodeItem>,
}

/// Everything the DX IOD needs that does not come from the pixels. Field names are the DICOM
/// keywords in snake_case (Python `dros.dx_metadata.DxMetadata` has exactly these attributes);
/// empty strings and `None` mean "unknown" and produce empty Type 2 attributes or omit Type 3 ones.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "python", derive(pyo3::FromPyObject))]
pub struct DxMetadata {
    // SOP Common, General Image
    pub sop_instance_uid: String,
    pub specific_character_set: String,
    pub instance_number: Option<i64>,
    pub content_date: String,
    pub content_time: String,
    pub acquisition_datetime: String,
    pub image_type: Vec<String>,
    pub image_comments: String,
    // Patient
    pub patient_name: String,
    pub patient_id: String,
    pub issuer_of_patient_id: String,
    pub patient_birth_date: String,
    pub patient_sex: String,
    pub patient_age: String,
    pub patient_weight: Option<f64>,
    pub patient_size: Option<f64>,
    // Patient, non-human (VETDROS)
    pub patient_species_description: String,
    pub patient_species_code: Option<CodeItem>,
    pub patient_breed_description: String,
    pub patient_breed_code: Option<CodeItem>,
    pub responsible_person: String,
    pub responsible_person_role: String,
    pub responsible_organization: String,
    pub patient_sex_neutered: String,
    // General Study
    pub study_instance_uid: String,
    pub study_date: String,
    pub study_time: String,
    pub study_id: String,
    pub accession_number: String,
    pub referring_physician_name: String,
    pub study_description: String,
    // General Series: the worklist order(s) of the image (empty for an unscheduled study)
    pub request_attributes: Vec<RequestAttributes>,
    // General Series, DX Series, DX Anatomy Imaged, DX Positioning
    pub series_instance_uid: String,
    pub series_number: Option<i64>,
    pub series_description: String,
    pub body_part_examined: String,
    pub view_position: String,
    pub view_code: Option<CodeItem>,
    pub positioner_type: String,
    pub image_laterality: String,
    pub patient_orientation: Vec<String>,
    pub anatomic_region: Option<CodeItem>,
    pub protocol_name: String,
    pub operators_name: String,
    // General Equipment
    pub manufacturer: String,
    pub institution_name: String,
    pub station_name: String,
    pub manufacturer_model_name: String,
    pub device_serial_number: String,
    pub software_versions: String,
    // DX Detector
    pub detector_type: String,
    pub detector_id: String,
    pub detector_manufacturer_name: String,
    pub detector_manufacturer_model_name: String,
    pub imager_pixel_spacing: (f64, f64),
    // X-Ray Acquisition Dose, X-Ray Generation
    pub kvp: Option<f64>,
    pub exposure_mas: Option<f64>,
    pub exposure_time_ms: Option<f64>,
    pub xray_tube_current_ma: Option<f64>,
    pub distance_source_to_detector: Option<f64>,
    pub distance_source_to_patient: Option<f64>,
    pub image_and_fluoroscopy_area_dose_product: Option<f64>,
    // Results of the processing chain
    pub window_center: Option<f64>,
    pub window_width: Option<f64>,
    pub voi_lut_function: String,
    pub exposure_index: Option<f64>,
    pub target_exposure_index: Option<f64>,
    pub deviation_index: Option<f64>,
    // Pixel description
    pub presentation_intent: String,
    pub bits_stored: u16,
    pub photometric_interpretation: String,
    pub pixel_intensity_relationship: String,
    pub pixel_intensity_relationship_sign: i16,
}

/// Transfer syntax of the written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferSyntax {
    ExplicitVrLittleEndian,
    RleLossless,
}

impl TransferSyntax {
    /// `"explicit"` or `"rle"` (the names of the Python API), or the UIDs themselves.
    pub fn parse(name: &str) -> CoreResult<Self> {
        match name {
            "explicit" | uids::EXPLICIT_VR_LITTLE_ENDIAN => Ok(Self::ExplicitVrLittleEndian),
            "rle" | uids::RLE_LOSSLESS => Ok(Self::RleLossless),
            other => Err(CoreError::InvalidArgument(format!(
                "unknown transfer_syntax {other:?}: expected \"explicit\" or \"rle\""
            ))),
        }
    }

    pub fn uid(self) -> &'static str {
        match self {
            Self::ExplicitVrLittleEndian => uids::EXPLICIT_VR_LITTLE_ENDIAN,
            Self::RleLossless => uids::RLE_LOSSLESS,
        }
    }
}

const FOR_PRESENTATION: &str = "FOR PRESENTATION";
const FOR_PROCESSING: &str = "FOR PROCESSING";
