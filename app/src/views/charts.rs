//! Trend charts as plain SVG, drawn from the weekly figures: no chart
//! library, no script. Each chart has a title, its definition in a legend
//! and a `<title>` per mark, so a hover (or a screen reader) gives the value.

use crate::format::{maybe_duration, utc_timestamp};
use crate::model::WeekView;
use leptos::prelude::*;

const W: f64 = 640.0;
const H: f64 = 160.0;
const PAD_L: f64 = 44.0;
const PAD_B: f64 = 20.0;

/// Fill colours per deploy context, in a fixed order so charts agree.
pub fn context_colour(context: &str) -> &'static str {
    match context {
        "production" => "#047857",
        "branch-deploy" => "#0369a1",
        "deploy-preview" => "#a16207",
        _ => "#64748b",
    }
}

fn week_label(ms: i64) -> String {
    utc_timestamp(ms)[..10].to_string()
}

/// A coordinate to a tenth of a unit: a 640-unit chart needs no more, and
/// full precision printed 17 digits per number into every mark.
fn px(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn x_of(i: usize, n: usize) -> f64 {
    let step = (W - PAD_L) / n.max(1) as f64;
    px(PAD_L + step * i as f64)
}

fn bar_width(n: usize) -> f64 {
    px(((W - PAD_L) / n.max(1) as f64 * 0.8).max(1.0))
}

/// A y axis from 0 to `max` with two gridlines and labels.
fn axis(max: f64, label: impl Fn(f64) -> String) -> impl IntoView {
    let ticks = [0.0, 0.5, 1.0];
    view! {
        <g class="text-slate-400" font-size="10">
            {ticks.map(|t| {
                let y = px((H - PAD_B) * (1.0 - t));
                view! {
                    <line x1=PAD_L x2=W y1=y y2=y stroke="#e2e8f0" />
                    <text x=PAD_L - 4.0 y=y + 3.0 text-anchor="end" fill="#64748b">{label(max * t)}</text>
                }
            }).collect_view()}
        </g>
    }
}

/// Deploys per week, stacked by context.
#[component]
pub fn FrequencyChart(weeks: Vec<WeekView>, contexts: Vec<String>) -> impl IntoView {
    let n = weeks.len();
    let max = weeks
        .iter()
        .map(|w| w.by_context.iter().map(|(_, c)| *c).sum::<u32>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let scale = (H - PAD_B) / max;
    let bw = bar_width(n);
    let bars = weeks
        .iter()
        .enumerate()
        .flat_map(|(i, w)| {
            let mut y = H - PAD_B;
            let x = x_of(i, n);
            let label = week_label(w.week_start_ms);
            contexts
                .iter()
                .filter_map(|c| {
                    let count = w.by_context.iter().find(|(k, _)| k == c).map(|(_, v)| *v)?;
                    let h = f64::from(count) * scale;
                    y -= h;
                    Some(view! {
                        <rect x=x y=px(y) width=bw height=px(h) fill=context_colour(c)>
                            <title>{format!("Week of {label}: {count} {c} deploys")}</title>
                        </rect>
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect_view();
    view! {
        <svg viewBox=format!("0 0 {W} {H}") class="w-full" role="img" aria-label="Deploys per week by context" data-testid="chart-frequency">
            {axis(max, |v| format!("{v:.0}"))}
            {bars}
        </svg>
        <p class="mt-1 flex flex-wrap gap-3 text-xs text-slate-600">
            {contexts.into_iter().map(|c| view! {
                <span class="flex items-center gap-1">
                    <svg class="h-2 w-2" viewBox="0 0 2 2" aria-hidden="true"><rect width="2" height="2" fill=context_colour(&c) /></svg>{c}
                </span>
            }).collect_view()}
        </p>
    }
}

/// One value per week as bars, with `None` weeks left empty.
#[component]
pub fn WeeklyBars(
    weeks: Vec<WeekView>,
    value: fn(&WeekView) -> Option<f64>,
    format: fn(f64) -> String,
    #[prop(into)] label: String,
    #[prop(into)] testid: String,
    colour: &'static str,
) -> impl IntoView {
    let n = weeks.len();
    let values: Vec<Option<f64>> = weeks.iter().map(value).collect();
    let max = values
        .iter()
        .flatten()
        .cloned()
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let scale = (H - PAD_B) / max;
    let bw = bar_width(n);
    let bars = weeks
        .iter()
        .zip(values)
        .enumerate()
        .filter_map(|(i, (w, v))| {
            let v = v?;
            let h = px((v * scale).max(1.0));
            let title = format!("Week of {}: {}", week_label(w.week_start_ms), format(v));
            Some(view! {
                <rect x=x_of(i, n) y=px(H - PAD_B - h) width=bw height=h fill=colour>
                    <title>{title}</title>
                </rect>
            })
        })
        .collect_view();
    view! {
        <svg viewBox=format!("0 0 {W} {H}") class="w-full" role="img" aria-label=label data-testid=testid>
            {axis(max, format)}
            {bars}
        </svg>
    }
}

/// A week's build time p50 as a bar and p90 as a tick above it.
#[component]
pub fn BuildTimeChart(weeks: Vec<WeekView>) -> impl IntoView {
    let n = weeks.len();
    let max = weeks
        .iter()
        .filter_map(|w| w.build_p90_s)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let scale = (H - PAD_B) / max;
    let bw = bar_width(n);
    let marks = weeks
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            let (p50, p90) = (w.build_p50_s?, w.build_p90_s?);
            let x = x_of(i, n);
            let (h50, y90) = (px(p50 as f64 * scale), px(H - PAD_B - p90 as f64 * scale));
            let title = format!(
                "Week of {}: median {}, 90th percentile {}",
                week_label(w.week_start_ms),
                maybe_duration(Some(p50)),
                maybe_duration(Some(p90))
            );
            Some(view! {
                <g>
                    <title>{title}</title>
                    <rect x=x y=px(H - PAD_B - h50) width=bw height=h50 fill="#0369a1" />
                    <line x1=x x2=px(x + bw) y1=y90 y2=y90 stroke="#b91c1c" stroke-width="2" />
                </g>
            })
        })
        .collect_view();
    view! {
        <svg viewBox=format!("0 0 {W} {H}") class="w-full" role="img" aria-label="Build time per week: median and 90th percentile" data-testid="chart-build-time">
            {axis(max, |v| maybe_duration(Some(v as i64)))}
            {marks}
        </svg>
    }
}
