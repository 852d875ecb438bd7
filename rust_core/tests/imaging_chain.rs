//! Pure-API tests of the imaging chain (no Python): collimation IoU on phantoms, determinism,
//! bad frames, defined results on degenerate frames.

use _core::collimation::{iou, CollimationKind};
use _core::frame::Frame;
use _core::phantom::FieldKind;
use _core::phantom::{generate, PhantomSpec, Physics};
use _core::pipeline::{run, Params};

fn process(spec: &PhantomSpec) -> (f64, _core::pipeline::Processed, _core::phantom::Phantom) {
    let ph = generate(spec).expect("phantom");
    let raw = ph.raw.as_slice().expect("contiguous");
    let frame = Frame::new(raw, spec.height, spec.width).expect("frame");
    let out = run(&frame, &Params::from_preset("default", 250.0).expect("preset")).expect("run");
    (iou(&out.field_mask, &ph.field_mask), out, ph)
}

#[test]
fn collimation_iou_on_every_kind() {
    for kind in [FieldKind::Rect, FieldKind::Circle, FieldKind::Open] {
        for seed in 0..6u64 {
            let spec = PhantomSpec::new(1024, 896, kind, 1000 + seed);
            let (v, out, _) = process(&spec);
            assert!(v >= 0.98, "{kind:?} seed {seed}: IoU {v:.4}, detected {:?}", out.collimation.geometry);
            assert_eq!(out.collimation.kind.as_str(), kind.as_str(), "seed {seed}");
        }
    }
}

#[test]
fn identical_input_gives_identical_output() {
    let spec = PhantomSpec::new(768, 640, FieldKind::Rect, 7);
    let (_, a, _) = process(&spec);
    let (_, b, _) = process(&spec);
    assert_eq!(a.image, b.image);
    assert_eq!(a.field_mask, b.field_mask);
    assert_eq!(a.window_center.to_bits(), b.window_center.to_bits());
    assert_eq!(a.exposure.exposure_index.to_bits(), b.exposure.exposure_index.to_bits());
}

#[test]
fn bad_frames_are_rejected_with_the_rule() {
    let v = vec![0u16; 63 * 100];
    let e = Frame::new(&v, 63, 100).err().expect("too small").to_string();
    assert!(e.contains("at least 64"), "{e}");
    let e = Frame::new(&[], 0, 0).err().expect("empty").to_string();
    assert!(e.contains("empty"), "{e}");
    let e = _core::frame::check_shape(20_000, 100).expect_err("huge").to_string();
    assert!(e.contains("too large"), "{e}");
    let e = Frame::new(&v, 64, 100).err().expect("length").to_string();
    assert!(e.contains("needs"), "{e}");
    assert!(Params::from_preset("nope", 250.0).is_err());
    assert!(Params::from_preset("chest", f64::NAN).is_err());
}

#[test]
fn constant_and_zero_frames_have_a_defined_result() {
    for value in [0u16, 1000, 65535] {
        let v = vec![value; 256 * 200];
        let frame = Frame::new(&v, 200, 256).expect("frame");
        let out = run(&frame, &Params::from_preset("default", 250.0).expect("preset")).expect("run");
        assert_eq!(out.collimation.kind, CollimationKind::None);
        assert_eq!((out.window_center, out.window_width), (2048.0, 4096.0));
        assert!(out.field_mask.iter().all(|m| *m));
        let ei = out.exposure.exposure_index;
        assert!((ei - value as f64 / 10.0).abs() < 1e-9, "EI {ei}");
        assert_eq!(out.exposure.deviation_index.is_none(), value == 0);
    }
}

#[test]
fn the_wide_vector_path_gives_the_same_bits_as_the_baseline() {
    // Odd sizes (row remainders), both physics (several fields, wide penumbras), defects (the
    // repair copy), every field kind, two presets; the vector path must be the one under test.
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        assert!(_core::simd::has_avx2_fma(), "a CPU with AVX2 and FMA takes the wide path");
    }
    let run_with = |spec: &PhantomSpec, preset: &str, wide: bool| {
        _core::simd::allow_avx2_fma(wide);
        let ph = generate(spec).expect("phantom");
        let frame = Frame::new(ph.raw.as_slice().expect("contiguous"), spec.height, spec.width).expect("frame");
        let out = run(&frame, &Params::from_preset(preset, 250.0).expect("preset")).expect("run");
        _core::simd::allow_avx2_fma(true);
        out
    };
    for (i, kind) in [FieldKind::Rect, FieldKind::Circle, FieldKind::Open].into_iter().enumerate() {
        for physics in [Physics::Classic, Physics::Wide] {
            let mut spec = PhantomSpec::new(1030, 901, kind, 4100 + i as u64);
            spec.physics = physics;
            for preset in ["default", "chest"] {
                let (a, b) = (run_with(&spec, preset, true), run_with(&spec, preset, false));
                let at = format!("{kind:?} {physics:?} {preset}");
                assert_eq!(a.image, b.image, "{at}");
                assert_eq!(a.field_mask, b.field_mask, "{at}");
                assert_eq!(a.foreground_mask, b.foreground_mask, "{at}");
                assert_eq!(a.window_center.to_bits(), b.window_center.to_bits(), "{at}");
                assert_eq!(a.window_width.to_bits(), b.window_width.to_bits(), "{at}");
                assert_eq!(a.exposure.exposure_index.to_bits(), b.exposure.exposure_index.to_bits(), "{at}");
            }
        }
    }
}
