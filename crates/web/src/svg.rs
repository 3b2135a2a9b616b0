//! Server-rendered SVG: the calories ring, progress bars and the statistics charts. Colours
//! come from CSS classes (so the dark theme applies); every chart has a text alternative.

use std::fmt::Write as _;

use crate::html::{esc, int};

/// The calories ring: `value` of `goal` (no goal: an empty track), `label` for screen readers.
pub fn ring(value: f64, goal: Option<f64>, center: &str, sub: &str, label: &str) -> String {
    let r = 52.0_f64;
    let c = 2.0 * std::f64::consts::PI * r;
    let frac = match goal {
        Some(g) if g > 0.0 => (value / g).clamp(0.0, 1.0),
        _ => 0.0,
    };
    let over = goal.is_some_and(|g| g > 0.0 && value > g);
    let dash = c * frac;
    let value = if frac > 0.0 {
        format!(
            r#"<circle class="ring-value" cx="60" cy="60" r="{r}" fill="none" stroke-width="10" stroke-linecap="round" stroke-dasharray="{dash:.2} {c:.2}" transform="rotate(-90 60 60)"/>"#
        )
    } else {
        String::new()
    };
    format!(
        r#"<svg class="ring{}" viewBox="0 0 120 120" width="132" height="132" role="img" aria-label="{}"><circle class="ring-track" cx="60" cy="60" r="{r}" fill="none" stroke-width="10"/>{value}<text x="60" y="58" text-anchor="middle" class="ring-num">{}</text><text x="60" y="78" text-anchor="middle" class="ring-sub">{}</text></svg>"#,
        if over { " over" } else { "" },
        esc(label),
        esc(center),
        esc(sub),
    )
}

/// A horizontal progress bar (0..=100 % of `goal`).
pub fn bar(value: f64, goal: Option<f64>, class: &str) -> String {
    let pct = match goal {
        Some(g) if g > 0.0 => (value / g * 100.0).clamp(0.0, 100.0),
        _ => 0.0,
    };
    format!(
        r#"<svg class="bar {}" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true"><rect class="bar-track" width="100" height="6" rx="3"/><rect class="bar-value" width="{pct:.1}" height="6" rx="3"/></svg>"#,
        esc(class)
    )
}

/// One day of a chart.
pub struct DayPoint {
    pub label: String,
    pub kcal: f64,
    pub protein: f64,
    pub fat: f64,
    pub carbs: f64,
}

const W: f64 = 340.0;
const H: f64 = 160.0;
const PAD_L: f64 = 34.0;
const PAD_B: f64 = 20.0;
const PAD_T: f64 = 10.0;

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 100.0;
    }
    let step = 10f64.powf(v.log10().floor());
    (v / step).ceil() * step
}

fn axis(out: &mut String, max: f64) {
    for i in 0..=2 {
        let v = max * f64::from(i) / 2.0;
        let y = H - PAD_B - (H - PAD_B - PAD_T) * f64::from(i) / 2.0;
        let _ = write!(
            out,
            r#"<line class="grid" x1="{PAD_L}" x2="{W}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            PAD_L - 4.0,
            y + 4.0,
            int(v)
        );
    }
}

fn x_of(i: usize, n: usize) -> f64 {
    let slot = (W - PAD_L) / n.max(1) as f64;
    PAD_L + slot * (i as f64 + 0.5)
}

fn labels(out: &mut String, days: &[DayPoint]) {
    let every = if days.len() > 10 { 5 } else { 1 };
    for (i, d) in days.iter().enumerate() {
        if i % every == 0 {
            let _ = write!(
                out,
                r#"<text class="axis" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                x_of(i, days.len()),
                H - 5.0,
                esc(&d.label)
            );
        }
    }
}

/// Calories per day as bars with the goal as a dashed line.
pub fn calories_chart(days: &[DayPoint], goal: Option<f64>, label: &str) -> String {
    let top = days
        .iter()
        .map(|d| d.kcal)
        .fold(goal.unwrap_or(0.0), f64::max);
    let max = nice_max(top);
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
        esc(label)
    );
    axis(&mut out, max);
    let plot_h = H - PAD_B - PAD_T;
    let slot = (W - PAD_L) / days.len().max(1) as f64;
    let bw = (slot * 0.6).max(2.0);
    for (i, d) in days.iter().enumerate() {
        let h = (d.kcal / max * plot_h).max(0.0);
        let _ = write!(
            out,
            r#"<rect class="c-kcal" x="{:.1}" y="{:.1}" width="{bw:.1}" height="{h:.1}" rx="2"><title>{}: {}</title></rect>"#,
            x_of(i, days.len()) - bw / 2.0,
            H - PAD_B - h,
            esc(&d.label),
            int(d.kcal)
        );
    }
    if let Some(g) = goal.filter(|g| *g > 0.0) {
        let y = H - PAD_B - g / max * plot_h;
        let _ = write!(
            out,
            r#"<line class="goal-line" x1="{PAD_L}" x2="{W}" y1="{y:.1}" y2="{y:.1}" stroke-dasharray="4 3"/>"#
        );
    }
    labels(&mut out, days);
    out.push_str("</svg>");
    out
}

/// Protein, fat and carbohydrates per day as stacked bars (grams).
pub fn macros_chart(days: &[DayPoint], label: &str) -> String {
    let top = days
        .iter()
        .map(|d| d.protein + d.fat + d.carbs)
        .fold(0.0, f64::max);
    let max = nice_max(top);
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
        esc(label)
    );
    axis(&mut out, max);
    let plot_h = H - PAD_B - PAD_T;
    let slot = (W - PAD_L) / days.len().max(1) as f64;
    let bw = (slot * 0.6).max(2.0);
    for (i, d) in days.iter().enumerate() {
        let mut y = H - PAD_B;
        for (v, class) in [(d.protein, "c-p"), (d.fat, "c-f"), (d.carbs, "c-c")] {
            let h = (v / max * plot_h).max(0.0);
            y -= h;
            let _ = write!(
                out,
                r#"<rect class="{class}" x="{:.1}" y="{y:.1}" width="{bw:.1}" height="{h:.1}"/>"#,
                x_of(i, days.len()) - bw / 2.0,
            );
        }
    }
    labels(&mut out, days);
    out.push_str("</svg>");
    out
}

/// A weight line with its trend.
pub fn weight_chart(points: &[(String, f64, f64)], label: &str) -> String {
    if points.is_empty() {
        return String::new();
    }
    let lo = points
        .iter()
        .flat_map(|p| [p.1, p.2])
        .fold(f64::INFINITY, f64::min);
    let hi = points
        .iter()
        .flat_map(|p| [p.1, p.2])
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = ((lo - 1.0).floor(), (hi + 1.0).ceil());
    let plot_h = H - PAD_B - PAD_T;
    let y_of = |v: f64| H - PAD_B - (v - lo) / (hi - lo).max(1.0) * plot_h;
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
        esc(label)
    );
    for v in [lo, hi] {
        let y = y_of(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{PAD_L}" x2="{W}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            PAD_L - 4.0,
            y + 4.0,
            int(v)
        );
    }
    let n = points.len();
    let line = |pick: fn(&(String, f64, f64)) -> f64| {
        points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x_of(i, n), y_of(pick(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = write!(
        out,
        r#"<polyline class="w-trend" fill="none" points="{}"/><polyline class="w-raw" fill="none" points="{}"/>"#,
        line(|p| p.2),
        line(|p| p.1)
    );
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            out,
            r#"<circle class="w-dot" cx="{:.1}" cy="{:.1}" r="3"><title>{}: {}</title></circle>"#,
            x_of(i, n),
            y_of(p.1),
            esc(&p.0),
            p.1
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_fills_by_the_fraction_of_the_goal_and_marks_overshoot() {
        let half = ring(1000.0, Some(2000.0), "1000", "kcal", "x");
        assert!(
            half.contains("stroke-dasharray=\"163.36 326.73\""),
            "{half}"
        );
        assert!(ring(2500.0, Some(2000.0), "", "", "").contains("ring over"));
        assert!(!ring(10.0, None, "", "", "").contains("ring-value"));
    }

    #[test]
    fn charts_escape_labels_and_scale_to_a_round_maximum() {
        let days = vec![DayPoint {
            label: "<b>".into(),
            kcal: 1730.0,
            protein: 10.0,
            fat: 5.0,
            carbs: 20.0,
        }];
        let svg = calories_chart(&days, Some(2000.0), "a&b");
        assert!(svg.contains("&lt;b&gt;") && svg.contains("a&amp;b"));
        assert!(svg.contains(">2000<"), "{svg}");
        assert_eq!(nice_max(1730.0), 2000.0);
        assert!(macros_chart(&days, "m").contains("c-p"));
    }
}
