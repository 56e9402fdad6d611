//! Data reduction before drawing, testable without plotters: long series thinned to
//! bucket means, many layers folded into "other".

use super::*;

/// At most this many points per series: more than the pixels across a plot, so nothing
/// visible is lost, and SVGs of long runs stay small.
pub(super) const MAX_POINTS: usize = 1500;

/// Layers beyond this are folded into "other".
pub(super) const MAX_LAYERS: usize = palette::CATEGORICAL.len() + 1;

/// Evenly sized buckets of at most [`MAX_POINTS`]: `(first index, length)`.
pub(super) fn buckets(n: usize) -> Vec<(usize, usize)> {
    let size = n.div_ceil(MAX_POINTS).max(1);
    (0..n).step_by(size).map(|i| (i, size.min(n - i))).collect()
}

/// The mean of each bucket, so that stacked areas keep their totals when thinned.
pub(super) fn thin(values: &[f64], buckets: &[(usize, usize)]) -> Vec<f64> {
    buckets
        .iter()
        .map(|&(i, len)| {
            let slice = values.get(i..(i + len).min(values.len())).unwrap_or(&[]);
            slice.iter().sum::<f64>() / len as f64
        })
        .collect()
}

/// Layers to draw: at most [`MAX_LAYERS`], the smallest (by peak) folded into "other".
pub(super) fn fold_layers(layers: &[Line]) -> Vec<(String, Vec<f64>, Rgb)> {
    let peak = |s: &Line| s.values.iter().copied().fold(0.0, f64::max);
    let keep: Vec<bool> = if layers.len() <= MAX_LAYERS {
        vec![true; layers.len()]
    } else {
        let mut by_peak: Vec<usize> = (0..layers.len()).collect();
        by_peak.sort_by(|&a, &b| peak(&layers[b]).total_cmp(&peak(&layers[a])));
        let mut keep = vec![false; layers.len()];
        for &i in &by_peak[..MAX_LAYERS - 1] {
            keep[i] = true;
        }
        keep
    };
    let mut out = Vec::new();
    let mut other: Option<(usize, Vec<f64>)> = None;
    let mut next_color = 0;
    for (layer, kept) in layers.iter().zip(keep) {
        if kept {
            let color = match layer.colour {
                Some(slot) => palette::CATEGORICAL[slot % palette::CATEGORICAL.len()],
                None => palette::rule_color(&layer.label).unwrap_or_else(|| {
                    let c = palette::CATEGORICAL[next_color % palette::CATEGORICAL.len()];
                    next_color += 1;
                    c
                }),
            };
            out.push((layer.label.clone(), layer.values.clone(), color));
        } else {
            let (n, sum) = other.get_or_insert_with(|| (0, Vec::new()));
            *n += 1;
            if sum.len() < layer.values.len() {
                sum.resize(layer.values.len(), 0.0);
            }
            for (s, v) in sum.iter_mut().zip(&layer.values) {
                *s += v;
            }
        }
    }
    if let Some((n, sum)) = other {
        out.push((format!("other ({n})"), sum, palette::OTHER));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_means() {
        let b = buckets(3000);
        assert_eq!(b.len(), 1500);
        assert_eq!(b[1], (2, 2));
        let v: Vec<f64> = (0..3000).map(|i| i as f64).collect();
        assert_eq!(thin(&v, &b)[0], 0.5);
        assert_eq!(buckets(10).len(), 10);
    }

    #[test]
    fn many_layers_fold_into_other() {
        let layers: Vec<Line> = (0..12)
            .map(|i| Line {
                label: format!("v{i}"),
                values: vec![i as f64; 3],
                colour: None,
            })
            .collect();
        let folded = fold_layers(&layers);
        assert_eq!(folded.len(), MAX_LAYERS);
        assert_eq!(folded.last().map(|l| l.0.as_str()), Some("other (5)"));
        // Smallest peaks fold: v0..v4 sum to 10.
        assert_eq!(folded.last().map(|l| l.1[0]), Some(10.0));
        assert_eq!(folded[0].0, "v5");
    }
}
