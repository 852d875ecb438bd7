//! Per-view enhancement parameters (`img_proc_id` → parameters).
//!
//! Level 0 is full resolution; each further level halves it. Gains > 1 raise the contrast of
//! structures of that size. `power` < 1 is the non-linear detail gain: small details are lifted
//! relative to large ones (up to ×4 at most). `noise_coring` is the Wiener-like attenuation of the
//! finest `noise_levels` levels in units of their estimated noise σ. `latitude` scales the coarse
//! residual (latitude compression: < 1 fits a wider exposure range into the display range).
//! `anatomy_span` is the output range (DN of the 12-bit image) given to the 1st–99th percentile
//! of the processed anatomy.

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EnhanceParams {
    pub gains: [f32; 8],
    pub power: f32,
    pub reference_amplitude: f32,
    pub noise_coring: f32,
    pub noise_levels: usize,
    pub latitude: f32,
    pub anatomy_span: f32,
    /// Soft shutter border in pixels (0 = hard edge).
    pub soft_border_px: f32,
}

const BASE: EnhanceParams = EnhanceParams {
    gains: [1.0, 1.2, 1.4, 1.5, 1.4, 1.2, 1.0, 1.0],
    power: 0.7,
    reference_amplitude: 0.15,
    noise_coring: 1.5,
    noise_levels: 2,
    latitude: 0.6,
    anatomy_span: 2600.0,
    soft_border_px: 0.0,
};

/// The preset table. Names are the `img_proc_id` values understood by the chain.
pub const PRESETS: &[(&str, EnhanceParams)] = &[
    ("default", BASE),
    ("chest", EnhanceParams { gains: [1.0, 1.3, 1.6, 1.7, 1.5, 1.2, 1.0, 1.0], latitude: 0.45, ..BASE }),
    (
        "extremity",
        EnhanceParams {
            gains: [1.3, 1.6, 1.6, 1.4, 1.3, 1.25, 1.1, 1.0],
            power: 0.65,
            latitude: 0.75,
            noise_coring: 1.2,
            ..BASE
        },
    ),
    (
        "spine",
        EnhanceParams { gains: [1.0, 1.3, 1.5, 1.6, 1.5, 1.3, 1.1, 1.0], latitude: 0.5, noise_coring: 2.0, ..BASE },
    ),
    ("skull", EnhanceParams { gains: [1.1, 1.4, 1.5, 1.5, 1.3, 1.1, 1.0, 1.0], latitude: 0.55, ..BASE }),
    (
        "abdomen",
        EnhanceParams { gains: [1.0, 1.2, 1.5, 1.7, 1.6, 1.3, 1.0, 1.0], latitude: 0.55, noise_coring: 2.0, ..BASE },
    ),
    (
        "pelvis",
        EnhanceParams { gains: [1.0, 1.3, 1.5, 1.6, 1.5, 1.3, 1.0, 1.0], latitude: 0.55, noise_coring: 1.8, ..BASE },
    ),
    ("vet_thorax", EnhanceParams { gains: [1.1, 1.4, 1.6, 1.6, 1.4, 1.1, 1.0, 1.0], latitude: 0.5, ..BASE }),
    (
        "vet_abdomen",
        EnhanceParams { gains: [1.0, 1.3, 1.5, 1.6, 1.5, 1.2, 1.0, 1.0], latitude: 0.6, noise_coring: 1.8, ..BASE },
    ),
    (
        "vet_extremity",
        EnhanceParams {
            gains: [1.4, 1.7, 1.6, 1.5, 1.4, 1.3, 1.1, 1.0],
            power: 0.65,
            latitude: 0.75,
            noise_coring: 1.2,
            ..BASE
        },
    ),
];

/// Parameters of a preset by name (case-insensitive).
pub fn preset(name: &str) -> Option<EnhanceParams> {
    PRESETS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, p)| *p)
}

pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|(n, _)| *n).collect()
}
