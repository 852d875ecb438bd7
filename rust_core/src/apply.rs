//! `apply`: the shutter. Outside the field becomes black (0); with `soft_border_px > 0` the image
//! fades to black over that many pixels inside the field edge instead of cutting hard. The chain
//! writes the black itself in the enhancement's last pass, which skips every pixel outside the
//! field (`enhance::pyramid`), and calls this only for a soft border.

use rayon::prelude::*;

use crate::collimation::{Collimation, CollimationKind};

pub fn apply_shutter(image: &mut [u16], width: usize, coll: &Collimation, soft_border_px: f64) {
    if coll.kind == CollimationKind::None || width == 0 {
        return;
    }
    image.par_chunks_mut(width).enumerate().for_each(|(y, row)| {
        let (a, b) = coll.row_span(y);
        row[..a].fill(0);
        row[b..].fill(0);
        if soft_border_px > 0.0 {
            let yf = y as f64;
            for (x, v) in row[a..b].iter_mut().enumerate() {
                let d = coll.signed_distance((a + x) as f64, yf);
                if d < soft_border_px {
                    let k = (d / soft_border_px).clamp(0.0, 1.0);
                    *v = (*v as f64 * k).round() as u16;
                }
            }
        }
    });
}
