//! The DX data set without Pixel Data, one function per IOD module (PS3.3 A.26) in the order the
//! IOD lists them. The object is a sorted map, so the order of `put`s does not shape the file.

use dicom_core::value::{DataSetSequence, C};
use dicom_core::{dicom_value, DataElement, Length, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;

use super::vr::{
    age, code_string, date, datetime, decimal, integer, invalid, no_control, one_of, person_name, rounded, text, time,
    uid_value,
};
use super::{CodeItem, DxMetadata, RequestAttributes, FOR_PRESENTATION, FOR_PROCESSING};
use crate::error::{CoreError, CoreResult};

type Module = CoreResult<()>;

fn put_str(obj: &mut InMemDicomObject, tag: Tag, vr: VR, value: String) {
    let v = if value.is_empty() { PrimitiveValue::Empty } else { PrimitiveValue::from(value) };
    obj.put(DataElement::new(tag, vr, v));
}

fn put_opt_str(obj: &mut InMemDicomObject, tag: Tag, vr: VR, value: String) {
    if !value.is_empty() {
        obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
    }
}

fn put_us(obj: &mut InMemDicomObject, tag: Tag, value: u16) {
    obj.put(DataElement::new(tag, VR::US, dicom_value!(U16, [value])));
}

fn put_seq(obj: &mut InMemDicomObject, tag: Tag, items: Vec<InMemDicomObject>) {
    obj.put(DataElement::new(tag, VR::SQ, DataSetSequence::new(items, Length::UNDEFINED)));
}

fn code_item(field: &str, c: &CodeItem) -> CoreResult<InMemDicomObject> {
    if c.code_value.is_empty() || c.coding_scheme_designator.is_empty() || c.code_meaning.is_empty() {
        return Err(invalid(field, "a code needs code_value, coding_scheme_designator and code_meaning"));
    }
    let mut item = InMemDicomObject::new_empty();
    put_str(&mut item, tags::CODE_VALUE, VR::SH, text(field, &c.code_value, 16)?);
    put_str(&mut item, tags::CODING_SCHEME_DESIGNATOR, VR::SH, text(field, &c.coding_scheme_designator, 16)?);
    put_str(&mut item, tags::CODE_MEANING, VR::LO, text(field, &c.code_meaning, 64)?);
    Ok(item)
}

fn code_seq(field: &str, c: &Option<CodeItem>) -> CoreResult<Vec<InMemDicomObject>> {
    c.as_ref().map(|c| code_item(field, c)).into_iter().collect()
}

fn sop_class_for(intent: &str) -> CoreResult<&'static str> {
    match intent {
        FOR_PRESENTATION => Ok(uids::DIGITAL_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION),
        FOR_PROCESSING => Ok(uids::DIGITAL_X_RAY_IMAGE_STORAGE_FOR_PROCESSING),
        other => {
            Err(invalid("presentation_intent", format!("{other:?} is not \"FOR PRESENTATION\" or \"FOR PROCESSING\"")))
        }
    }
}

/// The data set without Pixel Data: every attribute derived from `m` and the frame shape.
/// `max_pixel` is the largest stored value, checked against BitsStored.
pub fn build_dataset(m: &DxMetadata, rows: usize, columns: usize, max_pixel: u16) -> CoreResult<InMemDicomObject> {
    check_frame(m, rows, columns, max_pixel)?;
    let mut o = InMemDicomObject::new_empty();
    sop_common(&mut o, m)?;
    patient(&mut o, m)?;
    general_study_and_series(&mut o, m)?;
    request_attributes(&mut o, m)?;
    general_equipment(&mut o, m)?;
    general_image(&mut o, m)?;
    acquisition_dose(&mut o, m)?;
    dx_positioning(&mut o, m)?;
    dx_detector(&mut o, m)?;
    let photometric = image_pixel(&mut o, m, rows, columns)?;
    voi_lut(&mut o, m)?;
    dx_image(&mut o, &photometric);
    Ok(o)
}

fn check_frame(m: &DxMetadata, rows: usize, columns: usize, max_pixel: u16) -> Module {
    if rows == 0 || columns == 0 || rows > u16::MAX as usize || columns > u16::MAX as usize {
        return Err(CoreError::InvalidArgument(format!(
            "a DX frame needs 1..=65535 rows and columns (US), got {rows}×{columns}"
        )));
    }
    // DX Image module: BitsAllocated is 16 when BitsStored is 9..=16 (we always store 16 bits).
    if !(9..=16).contains(&m.bits_stored) {
        return Err(invalid("bits_stored", format!("{} is outside 9..=16 for 16-bit DX pixels", m.bits_stored)));
    }
    if m.bits_stored < 16 && (max_pixel as u32) >> m.bits_stored != 0 {
        return Err(invalid(
            "bits_stored",
            format!("pixel value {max_pixel} does not fit in BitsStored {}", m.bits_stored),
        ));
    }
    Ok(())
}

fn sop_common(o: &mut InMemDicomObject, m: &DxMetadata) -> Module {
    let sop_class = sop_class_for(&m.presentation_intent)?;
    let charset = one_of("specific_character_set", &m.specific_character_set, &["ISO_IR 192", "ISO_IR 100", ""])?;
    put_opt_str(o, tags::SPECIFIC_CHARACTER_SET, VR::CS, charset.clone());
    if charset.is_empty() {
        // Without a character set only the default repertoire (ASCII) is allowed.
        let fields: [(&str, &str); 6] = [
            ("patient_name", &m.patient_name),
            ("referring_physician_name", &m.referring_physician_name),
            ("institution_name", &m.institution_name),
            ("study_description", &m.study_description),
            ("responsible_person", &m.responsible_person),
            ("operators_name", &m.operators_name),
        ];
        if let Some((f, _)) = fields.iter().find(|(_, v)| !v.is_ascii()) {
            return Err(invalid(f, "non-ASCII text needs specific_character_set \"ISO_IR 192\""));
        }
    }
    put_str(o, tags::SOP_CLASS_UID, VR::UI, sop_class.to_owned());
    put_str(o, tags::SOP_INSTANCE_UID, VR::UI, uid_value("sop_instance_uid", &m.sop_instance_uid)?);
    Ok(())
}

fn patient(o: &mut InMemDicomObject, m: &DxMetadata) -> Module {
    put_str(o, tags::PATIENT_NAME, VR::PN, person_name("patient_name", &m.patient_name)?);
    put_str(o, tags::PATIENT_ID, VR::LO, text("patient_id", &m.patient_id, 64)?);
    put_opt_str(o, tags::ISSUER_OF_PATIENT_ID, VR::LO, text("issuer_of_patient_id", &m.issuer_of_patient_id, 64)?);
    put_str(o, tags::PATIENT_BIRTH_DATE, VR::DA, date("patient_birth_date", &m.patient_birth_date)?);
    put_str(o, tags::PATIENT_SEX, VR::CS, one_of("patient_sex", &m.patient_sex, &["M", "F", "O", ""])?);
    put_opt_str(o, tags::PATIENT_AGE, VR::AS, age("patient_age", &m.patient_age)?);
    if let Some(v) = m.patient_size {
        put_str(o, tags::PATIENT_SIZE, VR::DS, decimal("patient_size", v)?);
    }
    if let Some(v) = m.patient_weight {
        put_str(o, tags::PATIENT_WEIGHT, VR::DS, decimal("patient_weight", v)?);
    }
    // Non-human patient (PS3.3 C.7.1.1): the species identifies the patient as an animal, which
    // makes breed, breed registration, responsible person/organisation and neutering Type 2C.
    let non_human = !m.patient_species_description.is_empty() || m.patient_species_code.is_some();
    if non_human {
        put_opt_str(
            o,
            tags::PATIENT_SPECIES_DESCRIPTION,
            VR::LO,
            text("patient_species_description", &m.patient_species_description, 64)?,
        );
        if m.patient_species_code.is_some() {
            put_seq(o, tags::PATIENT_SPECIES_CODE_SEQUENCE, code_seq("patient_species_code", &m.patient_species_code)?);
        }
        put_str(
            o,
            tags::PATIENT_SEX_NEUTERED,
            VR::CS,
            one_of("patient_sex_neutered", &m.patient_sex_neutered, &["ALTERED", "UNALTERED", ""])?,
        );
        put_str(
            o,
            tags::PATIENT_BREED_DESCRIPTION,
            VR::LO,
            text("patient_breed_description", &m.patient_breed_description, 64)?,
        );
        put_seq(o, tags::PATIENT_BREED_CODE_SEQUENCE, code_seq("patient_breed_code", &m.patient_breed_code)?);
        put_seq(o, tags::BREED_REGISTRATION_SEQUENCE, Vec::new());
        put_str(o, tags::RESPONSIBLE_PERSON, VR::PN, person_name("responsible_person", &m.responsible_person)?);
        // Responsible Person Role is Type 1C: required whenever a responsible person is named.
        if !m.responsible_person.is_empty() {
            if m.responsible_person_role.is_empty() {
                return Err(invalid("responsible_person_role", "required when responsible_person is given (Type 1C)"));
            }
            put_str(
                o,
                tags::RESPONSIBLE_PERSON_ROLE,
                VR::CS,
                code_string("responsible_person_role", &m.responsible_person_role)?,
            );
        }
        put_str(
            o,
            tags::RESPONSIBLE_ORGANIZATION,
            VR::LO,
            text("responsible_organization", &m.responsible_organization, 64)?,
        );
    } else {
        let vet_only = [
            ("patient_breed_description", m.patient_breed_description.is_empty()),
            ("patient_breed_code", m.patient_breed_code.is_none()),
            ("responsible_person", m.responsible_person.is_empty()),
            ("responsible_person_role", m.responsible_person_role.is_empty()),
            ("responsible_organization", m.responsible_organization.is_empty()),
            ("patient_sex_neutered", m.patient_sex_neutered.is_empty()),
        ];
        if let Some((f, _)) = vet_only.iter().find(|(_, empty)| !empty) {
            return Err(invalid(f, "only allowed for a non-human patient: set patient_species_description too"));
        }
    }
    Ok(())
}

/// General Study, General Series, DX Series: identity, dates and descriptions.
fn general_study_and_series(o: &mut InMemDicomObject, m: &DxMetadata) -> Module {
    put_str(o, tags::STUDY_DATE, VR::DA, date("study_date", &m.study_date)?);
    put_str(o, tags::STUDY_TIME, VR::TM, time("study_time", &m.study_time)?);
    put_str(o, tags::ACCESSION_NUMBER, VR::SH, text("accession_number", &m.accession_number, 16)?);
    put_str(o, tags::MODALITY, VR::CS, "DX".to_owned());
    put_str(o, tags::PRESENTATION_INTENT_TYPE, VR::CS, m.presentation_intent.clone());
    put_str(
        o,
        tags::REFERRING_PHYSICIAN_NAME,
        VR::PN,
        person_name("referring_physician_name", &m.referring_physician_name)?,
    );
    put_opt_str(o, tags::STUDY_DESCRIPTION, VR::LO, text("study_description", &m.study_description, 64)?);
    put_opt_str(o, tags::SERIES_DESCRIPTION, VR::LO, text("series_description", &m.series_description, 64)?);
    put_opt_str(o, tags::OPERATORS_NAME, VR::PN, person_name("operators_name", &m.operators_name)?);
    // Relationship
    put_str(o, tags::STUDY_INSTANCE_UID, VR::UI, uid_value("study_instance_uid", &m.study_instance_uid)?);
    put_str(o, tags::SERIES_INSTANCE_UID, VR::UI, uid_value("series_instance_uid", &m.series_instance_uid)?);
    put_str(o, tags::STUDY_ID, VR::SH, text("study_id", &m.study_id, 16)?);
    put_str(
        o,
        tags::SERIES_NUMBER,
        VR::IS,
        m.series_number.map(|n| integer("series_number", n)).transpose()?.unwrap_or_default(),
    );
    put_str(
        o,
        tags::INSTANCE_NUMBER,
        VR::IS,
        m.instance_number.map(|n| integer("instance_number", n)).transpose()?.unwrap_or_default(),
    );
    Ok(())
}

/// General Series: Request Attributes Sequence, one item per worklist order the image fulfils.
fn request_attributes(o: &mut InMemDicomObject, m: &DxMetadata) -> Module {
    if m.request_attributes.is_empty() {
        return Ok(());
    }
    let items = m.request_attributes.iter().map(request_item).collect::<CoreResult<Vec<_>>>()?;
    put_seq(o, tags::REQUEST_ATTRIBUTES_SEQUENCE, items);
    Ok(())
}

fn request_item(r: &RequestAttributes) -> CoreResult<InMemDicomObject> {
    const F: &str = "request_attributes";
    if r.requested_procedure_id.is_empty() || r.scheduled_procedure_step_id.is_empty() {
        return Err(invalid(F, "requested_procedure_id and scheduled_procedure_step_id are required (Type 1C)"));
    }
    let mut item = InMemDicomObject::new_empty();
    put_str(&mut item, tags::REQUESTED_PROCEDURE_ID, VR::SH, text(F, &r.requested_procedure_id, 16)?);
    put_str(&mut item, tags::SCHEDULED_PROCEDURE_STEP_ID, VR::SH, text(F, &r.scheduled_procedure_step_id, 16)?);
    put_opt_str(&mut item, tags::ACCESSION_NUMBER, VR::SH, text(F, &r.accession_number, 16)?);
    put_opt_str(
        &mut item,
        tags::REQUESTED_PROCEDURE_DESCRIPTION,
        VR::LO,
        text(F, &r.requested_procedure_description, 64)?,
    );
    if r.requested_procedure_code.is_some() {
        put_seq(&mut item, tags::REQUESTED_PROCEDURE_CODE_SEQUENCE, code_seq(F, &r.requested_procedure_code)?);
    }
    put_opt_str(
        &mut item,
        tags::SCHEDULED_PROCEDURE_STEP_DESCRIPTION,
        VR::LO,
        text(F, &r.scheduled_procedure_step_description, 64)?,
    );
    if !r.scheduled_protocol_codes.is_empty() {
        let codes = r.scheduled_protocol_codes.iter().map(|c| code_item(F, c)).collect::<CoreResult<Vec<_>>>()?;
        put_seq(&mut item, tags::SCHEDULED_PROTOCOL_CODE_SEQUENCE, codes);
    }
    Ok(item)
}

fn general_equipment(o: &mut InMemDicomObject, m: &DxMetadata) -> Module {
    put_str(o, tags::MANUFACTURER, VR::LO, text("manufacturer", &m.manufacturer, 64)?);
    put_opt_str(o, tags::INSTITUTION_NAME, VR::LO, text("institution_name", &m.institution_name, 64)?);
    put_opt_str(o, tags::STATION_NAME, VR::SH, text("station_name", &m.station_name, 16)?);
    put_opt_str(
        o,
        tags::MANUFACTURER_MODEL_NAME,
        VR::LO,
        text("manufacturer_model_name", &m.manufacturer_model_name, 64)?,
    );
    put_opt_str(o, tags::DEVICE_SERIAL_NUMBER, VR::LO, text("device_serial_number", &m.device_serial_number, 64)?);
    put_opt_str(o, tags::SOFTWARE_VERSIONS, VR::LO, text("software_versions", &m.software_versions, 64)?);
    Ok(())
}

/// General Image, General Anatomy, DX Anatomy Imaged: what the image shows and how it is oriented.
fn general_image(o: &mut InMemDicomObject, m: &DxMetadata) -> Module {
    // General Image, DX Image
    if m.image_type.len() < 2 {
        return Err(invalid("image_type", "needs at least 2 values, e.g. (\"ORIGINAL\", \"PRIMARY\")"));
    }
    one_of("image_type", &m.image_type[0], &["ORIGINAL", "DERIVED"])?;
    one_of("image_type", &m.image_type[1], &["PRIMARY", "SECONDARY"])?;
    let image_type: Vec<String> =
        m.image_type.iter().map(|v| code_string("image_type", v)).collect::<CoreResult<_>>()?;
    o.put(DataElement::new(tags::IMAGE_TYPE, VR::CS, PrimitiveValue::Strs(C::from_vec(image_type))));
    put_opt_str(o, tags::CONTENT_DATE, VR::DA, date("content_date", &m.content_date)?);
    put_opt_str(o, tags::CONTENT_TIME, VR::TM, time("content_time", &m.content_time)?);
    put_opt_str(o, tags::ACQUISITION_DATE_TIME, VR::DT, datetime("acquisition_datetime", &m.acquisition_datetime)?);
    // General Anatomy Required macro: Type 2, an empty sequence when the region is unknown.
    put_seq(o, tags::ANATOMIC_REGION_SEQUENCE, code_seq("anatomic_region", &m.anatomic_region)?);
    put_opt_str(o, tags::BODY_PART_EXAMINED, VR::CS, code_string("body_part_examined", &m.body_part_examined)?);
    put_opt_str(o, tags::PROTOCOL_NAME, VR::LO, text("protocol_name", &m.protocol_name, 64)?);
    if m.patient_orientation.len() != 2
        || !m
            .patient_orientation
            .iter()
            .all(|v| !v.is_empty() && v.len() <= 16 && v.bytes().all(|b| b"LRAPHF".contains(&b)))
    {
        return Err(invalid(
            "patient_orientation",
            format!("{:?}: exactly 2 values made of L R A P H F, e.g. (\"L\", \"F\")", m.patient_orientation),
        ));
    }
    put_str(o, tags::PATIENT_ORIENTATION, VR::CS, m.patient_orientation.join("\\"));
    // Laterality (0020,0060) is left out on purpose: with Image Laterality present the DX IOD
    // forbids it, and Image Laterality is Type 1 in DX Anatomy Imaged.
    put_str(o, tags::IMAGE_LATERALITY, VR::CS, one_of("image_laterality", &m.image_laterality, &["R", "L", "U", "B"])?);
    // LT keeps line breaks; other control characters are not in its repertoire.
    no_control("image_comments", &m.image_comments.replace(['\r', '\n'], ""))?;
    if m.image_comments.chars().count() > 10240 {
        return Err(invalid("image_comments", "at most 10240 characters (VR LT)"));
    }
    put_opt_str(o, tags::IMAGE_COMMENTS, VR::LT, m.image_comments.clone());
    Ok(())
}

fn acquisition_dose(o: &mut InMemDicomObject, m: &DxMetadata) -> Module {
    // Acquisition (X-Ray Generation, X-Ray Acquisition Dose). The FD variants (…InmA, …Inms,
    // …InmAs) are errors in DX, so the IS attributes carry the rounded values and the µ-unit
    // attributes the exact ones.
    if let Some(v) = m.kvp {
        put_str(o, tags::KVP, VR::DS, decimal("kvp", v)?);
    }
    if let Some(v) = m.distance_source_to_detector {
        put_str(o, tags::DISTANCE_SOURCE_TO_DETECTOR, VR::DS, decimal("distance_source_to_detector", v)?);
    }
    if let Some(v) = m.distance_source_to_patient {
        put_str(o, tags::DISTANCE_SOURCE_TO_PATIENT, VR::DS, decimal("distance_source_to_patient", v)?);
    }
    let positive = |field: &str, v: f64| {
        if v >= 0.0 {
            Ok(v)
        } else {
            Err(invalid(field, format!("{v} must not be negative")))
        }
    };
    if let Some(ms) = m.exposure_time_ms {
        let ms = positive("exposure_time_ms", ms)?;
        put_str(o, tags::EXPOSURE_TIME, VR::IS, rounded("exposure_time_ms", ms)?);
        put_str(o, tags::EXPOSURE_TIME_INU_S, VR::DS, decimal("exposure_time_ms", ms * 1000.0)?);
    }
    if let Some(ma) = m.xray_tube_current_ma {
        let ma = positive("xray_tube_current_ma", ma)?;
        put_str(o, tags::X_RAY_TUBE_CURRENT, VR::IS, rounded("xray_tube_current_ma", ma)?);
        put_str(o, tags::X_RAY_TUBE_CURRENT_INU_A, VR::DS, decimal("xray_tube_current_ma", ma * 1000.0)?);
    }
    if let Some(mas) = m.exposure_mas {
        let mas = positive("exposure_mas", mas)?;
        put_str(o, tags::EXPOSURE, VR::IS, rounded("exposure_mas", mas)?);
        put_str(o, tags::EXPOSURE_INU_AS, VR::IS, rounded("exposure_mas", mas * 1000.0)?);
    }
    if let Some(v) = m.image_and_fluoroscopy_area_dose_product {
        put_str(
            o,
            tags::IMAGE_AND_FLUOROSCOPY_AREA_DOSE_PRODUCT,
            VR::DS,
            decimal("image_and_fluoroscopy_area_dose_product", v)?,
        );
    }
    for (tag, field, v) in [
        (tags::EXPOSURE_INDEX, "exposure_index", m.exposure_index),
        (tags::TARGET_EXPOSURE_INDEX, "target_exposure_index", m.target_exposure_index),
        (tags::DEVIATION_INDEX, "deviation_index", m.deviation_index),
    ] {
        if let Some(v) = v {
            put_str(o, tag, VR::DS, decimal(field, v)?);
        }
    }
    Ok(())
}

fn dx_positioning(o: &mut InMemDicomObject, m: &DxMetadata) -> Module {
    // DX Positioning: a view position pulls in the module, whose PositionerType is Type 2.
    if !m.view_position.is_empty() || m.view_code.is_some() {
        put_str(o, tags::VIEW_POSITION, VR::CS, code_string("view_position", &m.view_position)?);
        put_str(o, tags::POSITIONER_TYPE, VR::CS, code_string("positioner_type", &m.positioner_type)?);
        if m.view_code.is_some() {
            put_seq(o, tags::VIEW_CODE_SEQUENCE, code_seq("view_code", &m.view_code)?);
        }
    } else if !m.positioner_type.is_empty() {
        put_str(o, tags::POSITIONER_TYPE, VR::CS, code_string("positioner_type", &m.positioner_type)?);
    }
    Ok(())
}

fn dx_detector(o: &mut InMemDicomObject, m: &DxMetadata) -> Module {
    let (sx, sy) = m.imager_pixel_spacing;
    if !(sx > 0.0 && sy > 0.0 && sx.is_finite() && sy.is_finite()) {
        return Err(invalid("imager_pixel_spacing", "both values must be positive millimetres"));
    }
    put_str(
        o,
        tags::IMAGER_PIXEL_SPACING,
        VR::DS,
        format!("{}\\{}", decimal("imager_pixel_spacing", sx)?, decimal("imager_pixel_spacing", sy)?),
    );
    put_str(
        o,
        tags::DETECTOR_TYPE,
        VR::CS,
        one_of("detector_type", &m.detector_type, &["DIRECT", "SCINTILLATOR", "STORAGE", "FILM", ""])?,
    );
    put_opt_str(o, tags::DETECTOR_ID, VR::SH, text("detector_id", &m.detector_id, 16)?);
    put_opt_str(
        o,
        tags::DETECTOR_MANUFACTURER_NAME,
        VR::LO,
        text("detector_manufacturer_name", &m.detector_manufacturer_name, 64)?,
    );
    put_opt_str(
        o,
        tags::DETECTOR_MANUFACTURER_MODEL_NAME,
        VR::LO,
        text("detector_manufacturer_model_name", &m.detector_manufacturer_model_name, 64)?,
    );
    Ok(())
}

/// Image Pixel; returns the photometric interpretation the Presentation LUT Shape must match.
fn image_pixel(o: &mut InMemDicomObject, m: &DxMetadata, rows: usize, columns: usize) -> CoreResult<String> {
    // Image Pixel
    put_us(o, tags::SAMPLES_PER_PIXEL, 1);
    let photometric =
        one_of("photometric_interpretation", &m.photometric_interpretation, &["MONOCHROME1", "MONOCHROME2"])?;
    put_str(o, tags::PHOTOMETRIC_INTERPRETATION, VR::CS, photometric.clone());
    put_us(o, tags::ROWS, rows as u16);
    put_us(o, tags::COLUMNS, columns as u16);
    put_us(o, tags::BITS_ALLOCATED, 16);
    put_us(o, tags::BITS_STORED, m.bits_stored);
    put_us(o, tags::HIGH_BIT, m.bits_stored - 1);
    put_us(o, tags::PIXEL_REPRESENTATION, 0);
    put_str(o, tags::BURNED_IN_ANNOTATION, VR::CS, "NO".to_owned());
    put_str(
        o,
        tags::PIXEL_INTENSITY_RELATIONSHIP,
        VR::CS,
        one_of("pixel_intensity_relationship", &m.pixel_intensity_relationship, &["LIN", "LOG"])?,
    );
    if !matches!(m.pixel_intensity_relationship_sign, 1 | -1) {
        return Err(invalid("pixel_intensity_relationship_sign", "must be 1 or -1"));
    }
    o.put(DataElement::new(
        tags::PIXEL_INTENSITY_RELATIONSHIP_SIGN,
        VR::SS,
        dicom_value!(I16, [m.pixel_intensity_relationship_sign]),
    ));
    Ok(photometric)
}

fn voi_lut(o: &mut InMemDicomObject, m: &DxMetadata) -> Module {
    let for_presentation = m.presentation_intent == FOR_PRESENTATION;
    // VOI LUT: required For Presentation, forbidden For Processing (DX Image module), so a window
    // passed with a For Processing frame is not written. Without a window, For Presentation gets
    // the identity window over the stored range (centre 2^(BitsStored-1), width 2^BitsStored).
    match (m.window_center, m.window_width) {
        (Some(_), None) | (None, Some(_)) => {
            return Err(invalid("window_width", "window_center and window_width go together"));
        }
        _ => {}
    }
    if for_presentation {
        let full = f64::from(1u32 << m.bits_stored);
        let (c, w) = (m.window_center.unwrap_or(full / 2.0), m.window_width.unwrap_or(full));
        if !(w >= 1.0) {
            return Err(invalid("window_width", format!("{w} must be at least 1")));
        }
        put_str(o, tags::WINDOW_CENTER, VR::DS, decimal("window_center", c)?);
        put_str(o, tags::WINDOW_WIDTH, VR::DS, decimal("window_width", w)?);
        put_opt_str(
            o,
            tags::VOILUT_FUNCTION,
            VR::CS,
            one_of("voi_lut_function", &m.voi_lut_function, &["LINEAR", "LINEAR_EXACT", "SIGMOID", ""])?,
        );
    }
    Ok(())
}

/// The DX Image module's fixed values.
fn dx_image(o: &mut InMemDicomObject, photometric: &str) {
    // The DX Image module fixes the modality rescale to identity.
    put_str(o, tags::RESCALE_INTERCEPT, VR::DS, "0".to_owned());
    put_str(o, tags::RESCALE_SLOPE, VR::DS, "1".to_owned());
    put_str(o, tags::RESCALE_TYPE, VR::LO, "US".to_owned());
    // RLE Lossless is lossless too, so the image has never been lossy-compressed.
    put_str(o, tags::LOSSY_IMAGE_COMPRESSION, VR::CS, "00".to_owned());
    put_seq(o, tags::ACQUISITION_CONTEXT_SEQUENCE, Vec::new());
    // Presentation LUT Shape must match the photometric interpretation.
    let shape = if photometric == "MONOCHROME2" { "IDENTITY" } else { "INVERSE" };
    put_str(o, tags::PRESENTATION_LUT_SHAPE, VR::CS, shape.to_owned());
}
