//! Renders a realistic rollout and checks what a person would see: PNGs that decode, have
//! the right size, colour in the plot and text in the label areas; SVGs and the report that
//! parse as XML, name their titles and reference nothing outside themselves; and (run by
//! `.ci/run`, which installs headless Chromium) the report as a browser draws it.
//!
//! Set `OTASIM_CHART_DEMO_DIR=DIR` to keep the rendered files for a look.

use std::collections::HashSet;
use std::path::PathBuf;

use super::*;

const DAY: usize = 24;

/// Share (0..1) of the fleet at or past a version that rolls out from `start_day`, reaching
/// `cap` of the fleet, half-way after `half_days`.
fn reached(tick: usize, start_day: f64, half_days: f64, cap: f64) -> f64 {
    let t = tick as f64 / DAY as f64 - start_day;
    if t <= 0.0 {
        return 0.0;
    }
    cap * t / (t + half_days)
}

/// A 30-day, hourly run over 120 000 devices: 1.0.0 / 1.1.0 at the start, 2.0.0 (MPT) from
/// day 2, a 2.0.0 → 2.1.0 delta from day 8 and 2.2.0 full from day 18.
struct Demo {
    axis: TimeAxis,
    versions: Vec<Line>,
    egress: Vec<Line>,
    adoption: Vec<Line>,
    matrix: MatrixHeat,
}

fn demo() -> Demo {
    let n_devices = 120_000.0;
    let ticks = 30 * DAY + 1;
    let axis = TimeAxis {
        tick_seconds: 3600,
        ticks,
    };
    let names = ["0.9.0", "1.0.0", "1.1.0", "2.0.0", "2.1.0", "2.2.0"];
    let mut layers: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    // Share at or past each version; devices not yet on 2.x keep their 0.9 / 1.0 / 1.1 mix.
    let at_least = |t: usize| -> [f64; 6] {
        let s2_0 = reached(t, 2.0, 3.0, 0.93);
        let s2_1 = reached(t, 8.0, 2.5, 0.97) * s2_0;
        let s2_2 = reached(t, 18.0, 2.0, 0.9) * s2_1;
        let old = 1.0 - s2_0;
        [1.0, s2_0 + old * 0.96, s2_0 + old * 0.35, s2_0, s2_1, s2_2]
    };
    let mut prev = at_least(0);
    let mut egress: Vec<Vec<f64>> = vec![Vec::new(); 4];
    for t in 0..ticks {
        let s = at_least(t);
        for k in 0..names.len() {
            let next = if k + 1 < names.len() { s[k + 1] } else { 0.0 };
            layers[k].push(((s[k] - next) * n_devices).round());
        }
        // Devices that moved this tick, times payload size; a daily cycle of polling.
        let daily = 1.0 + 0.35 * ((t % DAY) as f64 / DAY as f64 * std::f64::consts::TAU).sin();
        let moved = |k: usize| ((s[k] - prev[k]) * n_devices).max(0.0);
        egress[0].push(moved(4) * 150_000.0 * daily); // delta 2.0.0 -> 2.1.0
        egress[1].push(moved(5) * 1_900_000.0 * daily); // full 2.2.0
        egress[2].push(moved(3) * 1_800_000.0 * daily); // MPT 2.0.0
        egress[3].push(if t % (3 * DAY) == 5 {
            40.0 * 1_700_000.0
        } else {
            0.0
        }); // overrides
        prev = s;
    }
    let versions = names
        .iter()
        .zip(layers)
        .map(|(n, values)| Line {
            label: (*n).to_owned(),
            values,
            colour: None,
        })
        .collect::<Vec<_>>();
    let adoption = versions[3..]
        .iter()
        .map(|s| Line {
            label: format!(
                "{} ({})",
                s.label,
                match s.label.as_str() {
                    "2.0.0" => "MPT",
                    "2.1.0" => "delta",
                    _ => "full",
                }
            ),
            values: s.values.iter().map(|v| 100.0 * v / n_devices).collect(),
            colour: None,
        })
        .collect();
    let egress = ["delta", "full", "must_pass_through", "override"]
        .iter()
        .zip(egress)
        .map(|(l, values)| Line {
            label: (*l).to_owned(),
            values,
            colour: None,
        })
        .collect();
    let rows: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    let cols = rows.clone();
    let mut cells = vec![vec![0u64; cols.len()]; rows.len()];
    let mut rules = vec![vec![None; cols.len()]; rows.len()];
    let mut put = |r: usize, c: usize, n: u64, rule: &str| {
        cells[r][c] = n;
        rules[r][c] = Some(rule.to_owned());
    };
    put(0, 3, 412, "must_pass_through");
    put(0, 0, 7, "override");
    put(1, 3, 1_240, "must_pass_through");
    put(2, 3, 3_080, "must_pass_through");
    put(3, 4, 5_630, "delta");
    put(4, 5, 9_874, "full");
    put(4, 4, 38, "none");
    put(5, 5, 98_511, "none");
    put(5, 2, 12, "override");
    let matrix = MatrixHeat {
        title: "Version matrix, cohort default, day 30".to_owned(),
        rows,
        cols,
        cells,
        cell_rules: rules,
        row_final: ["2.2.0", "2.2.0", "2.2.0", "2.2.0", "2.2.0", "cycle"]
            .map(String::from)
            .to_vec(),
    };
    Demo {
        axis,
        versions,
        egress,
        adoption,
        matrix,
    }
}

fn charts(d: &Demo) -> Vec<Chart> {
    vec![
        Chart::Stacked(StackedSeries {
            title: "Fleet software versions over time".to_owned(),
            y_desc: "Devices".to_owned(),
            y_unit: Unit::Devices,
            axis: d.axis,
            layers: d.versions.clone(),
        }),
        Chart::Stacked(StackedSeries {
            title: "Egress per tick by rule".to_owned(),
            y_desc: format!("Bytes sent per {} tick", d.axis.tick_length()),
            y_unit: Unit::Bytes,
            axis: d.axis,
            layers: d.egress.clone(),
        }),
        Chart::Lines(Lines {
            title: "Adoption per release".to_owned(),
            y_desc: "Share of fleet on the release's version".to_owned(),
            y_unit: Unit::Percent,
            axis: d.axis,
            lines: d.adoption.clone(),
        }),
        Chart::Heat(d.matrix.clone()),
    ]
}

fn report(d: &Demo) -> Report {
    Report {
        title: "otasim run: rollout-2.x.toml".to_owned(),
        subtitle: "seed 7 · 30 days at 1 h ticks · 120,000 devices".to_owned(),
        summary: vec![
            ("Devices".to_owned(), "120,000".to_owned()),
            ("Egress, total".to_owned(), "312.4 GB".to_owned()),
            ("On 2.2.0 at the end".to_owned(), "82.1 %".to_owned()),
            (
                "Failed installs".to_owned(),
                "1,204 <0.5 % & falling>".to_owned(),
            ),
        ],
        tables: vec![ReportTable {
            title: "Time to reach".to_owned(),
            note: "Installed (reported) by that share of the devices that can get it.".to_owned(),
            header: ["Version", "From", "50 %", "99 %"]
                .map(str::to_owned)
                .to_vec(),
            rows: vec![["2.2.0", "1d", "14h (1d16h)", "2d11h (16d)"]
                .map(str::to_owned)
                .to_vec()],
        }],
        figures: charts(d)
            .into_iter()
            .map(|chart| Figure {
                chart,
                caption: "What to look for.".to_owned(),
            })
            .collect(),
        matrices: vec![
            d.matrix.clone(),
            MatrixHeat {
                title: "Cohort beta".to_owned(),
                rows: vec!["2.2.0".to_owned()],
                cols: vec!["2.2.0".to_owned()],
                cells: vec![vec![500]],
                cell_rules: vec![vec![Some("none".to_owned())]],
                row_final: vec![],
            },
        ],
    }
}

/// Where to write: `OTASIM_CHART_DEMO_DIR` if set (kept), else a temporary directory.
fn out_dir() -> (PathBuf, Option<tempfile::TempDir>) {
    match std::env::var_os("OTASIM_CHART_DEMO_DIR") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).expect("create demo dir");
            (PathBuf::from(dir), None)
        }
        None => {
            let tmp = tempfile::tempdir().expect("tempdir");
            (tmp.path().to_owned(), Some(tmp))
        }
    }
}

/// A decoded 8-bit RGB(A) image.
struct Image {
    width: u32,
    height: u32,
    channels: usize,
    data: Vec<u8>,
}

impl Image {
    fn decode(bytes: &[u8]) -> Image {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().expect("PNG header");
        let mut data = vec![0; reader.output_buffer_size().expect("buffer size")];
        let info = reader.next_frame(&mut data).expect("PNG data");
        data.truncate(info.buffer_size());
        Image {
            width: info.width,
            height: info.height,
            channels: info.color_type.samples(),
            data,
        }
    }

    fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * self.channels;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Distinct colours and the share of pixels unlike `bg` in a rectangle.
    fn survey(
        &self,
        x: std::ops::Range<u32>,
        y: std::ops::Range<u32>,
        bg: [u8; 3],
    ) -> (usize, f64) {
        let mut colours = HashSet::new();
        let (mut ink, mut all) = (0usize, 0usize);
        for yy in y {
            for xx in x.clone() {
                let p = self.pixel(xx, yy);
                colours.insert(p);
                all += 1;
                if p != bg {
                    ink += 1;
                }
            }
        }
        (colours.len(), ink as f64 / all.max(1) as f64)
    }
}

const WHITE_PX: [u8; 3] = [255, 255, 255];

fn check_png(chart: &Chart, bytes: &[u8]) {
    let size = chart.default_size();
    let img = Image::decode(bytes);
    assert_eq!(
        (img.width, img.height),
        (size.width, size.height),
        "{}",
        chart.title()
    );
    let (w, h) = (img.width, img.height);
    let title = chart.title();
    // Whole image: many colours (fills, anti-aliased text), far from blank.
    let (colours, ink) = img.survey(0..w, 0..h, WHITE_PX);
    assert!(colours >= 16, "{title}: only {colours} colours");
    assert!(
        ink > 0.02,
        "{title}: only {:.1}% non-background",
        ink * 100.0
    );
    // The title band holds the title's glyphs (text rendered from the bundled font).
    let (_, title_ink) = img.survey(20..w / 2, 10..55, WHITE_PX);
    assert!(title_ink > 0.02, "{title}: no title text ({title_ink})");
    match chart {
        Chart::Stacked(_) | Chart::Lines(_) => {
            // Plot area: data drawn.
            let (plot_colours, plot_ink) = img.survey(w / 4..w * 3 / 5, h / 3..h * 3 / 4, WHITE_PX);
            assert!(
                plot_colours >= 2 && plot_ink > 0.05,
                "{title}: empty plot area"
            );
            // Left: y tick labels; bottom: x tick labels and description; right: legend.
            for (name, xs, ys) in [
                ("y labels", 10..110, 80..h - 80),
                ("x labels", 150..w - 300, h - 60..h - 5),
                ("legend", w - 260..w, 60..200),
            ] {
                let (_, ink) = img.survey(xs, ys, WHITE_PX);
                assert!(ink > 0.01, "{title}: no text in the {name} area ({ink})");
            }
        }
        Chart::Heat(_) => {
            // Column labels above the grid, row labels to its left, coloured cells.
            let (_, top_ink) = img.survey(150..w - 300, 60..150, WHITE_PX);
            assert!(top_ink > 0.01, "{title}: no column labels");
            let (cell_colours, _) = img.survey(100..w - 250, 150..h - 30, WHITE_PX);
            assert!(cell_colours >= 20, "{title}: cells not coloured");
        }
    }
}

/// All text of `svg` (trimmed), in document order.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("SVG is XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_owned())
        .collect()
}

#[test]
fn every_chart_renders_as_png_with_text_and_data() {
    let (dir, _keep) = out_dir();
    let d = demo();
    for (i, chart) in charts(&d).iter().enumerate() {
        let path = dir.join(format!("chart{i}.png"));
        chart
            .write_png(&path, chart.default_size())
            .expect("write PNG");
        check_png(chart, &std::fs::read(&path).expect("read PNG"));
    }
}

#[test]
fn every_chart_renders_as_svg_with_its_title_and_labels() {
    let (dir, _keep) = out_dir();
    let d = demo();
    for (i, chart) in charts(&d).iter().enumerate() {
        let path = dir.join(format!("chart{i}.svg"));
        chart
            .write_svg(&path, chart.default_size())
            .expect("write SVG");
        let texts = svg_texts(&std::fs::read_to_string(&path).expect("read SVG"));
        assert!(
            texts.iter().any(|t| t == chart.title()),
            "no title in {texts:?}"
        );
        assert!(texts.len() > 10, "too little text: {texts:?}");
        match chart {
            Chart::Stacked(s) => {
                assert!(texts.iter().any(|t| t == &s.y_desc));
                assert!(texts.iter().any(|t| t == "Time since start (days)"));
                for l in &s.layers {
                    assert!(texts.contains(&l.label), "legend lacks {}", l.label);
                }
                if s.y_unit == Unit::Bytes {
                    assert!(texts.iter().any(|t| t.ends_with(" GB")), "{texts:?}");
                }
            }
            Chart::Lines(_) => assert!(texts.iter().any(|t| t == "100%")),
            Chart::Heat(m) => {
                for v in m.rows.iter().chain(&m.cols) {
                    assert!(texts.contains(v), "no label {v}");
                }
                assert!(texts.iter().any(|t| t == "98,511"), "{texts:?}");
                assert!(texts.iter().any(|t| t == "MPT"));
            }
        }
    }
}

#[test]
fn hours_axis_for_short_runs_and_no_panic_on_empty_data() {
    let short = Chart::Stacked(StackedSeries {
        title: "Two days".to_owned(),
        y_desc: "Devices".to_owned(),
        y_unit: Unit::Devices,
        axis: TimeAxis {
            tick_seconds: 3600,
            ticks: 49,
        },
        layers: vec![Line::from_counts("1.0.0", &[3; 49])],
    });
    let texts = svg_texts(&short.to_svg(Size::WIDE).expect("svg"));
    assert!(
        texts.iter().any(|t| t == "Time since start (hours)"),
        "{texts:?}"
    );
    let empty = [
        Chart::Lines(Lines {
            title: "Nothing yet".to_owned(),
            y_desc: "Share".to_owned(),
            y_unit: Unit::Percent,
            axis: TimeAxis {
                tick_seconds: 60,
                ticks: 0,
            },
            lines: vec![],
        }),
        Chart::Heat(MatrixHeat {
            title: "Empty cohort".to_owned(),
            rows: vec![],
            cols: vec![],
            cells: vec![],
            cell_rules: vec![],
            row_final: vec![],
        }),
    ];
    for chart in &empty {
        chart.to_png(Size::WIDE).expect("png");
        chart.to_svg(Size::WIDE).expect("svg");
    }
}

#[test]
fn malformed_matrix_is_a_data_error() {
    let mut m = demo().matrix;
    m.cells[2].pop();
    let err = Chart::Heat(m).to_png(Size::WIDE).unwrap_err();
    assert!(matches!(err, ChartError::Data { .. }), "{err}");
    assert!(err.to_string().contains("row `1.1.0`"), "{err}");
}

#[test]
fn report_is_self_contained_well_formed_html() {
    let (dir, _keep) = out_dir();
    let d = demo();
    let path = dir.join("report.html");
    write_report(&path, &report(&d)).expect("write report");
    let html = std::fs::read_to_string(&path).expect("read report");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for scheme in ["http://", "https://", "src=", "url("] {
        assert!(!html.contains(scheme), "report references `{scheme}`");
    }
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(&html, opts).expect("report is well-formed");
    let count = |tag: &str| doc.descendants().filter(|n| n.has_tag_name(tag)).count();
    assert_eq!(count("svg"), 4);
    assert_eq!(count("figure"), 4);
    // Summary, one table of figures, one table per cohort.
    assert_eq!(count("table"), 4);
    let headings: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("h3"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(headings[0], "Time to reach", "figure tables come first");
    let all_text: String = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(
        all_text.contains("1,204 <0.5 % & falling>"),
        "summary value escaped and kept"
    );
    assert!(all_text.contains("Cohort beta"));
    assert!(all_text.contains("98,511"));
    // Atomic write: nothing but the report (and any kept demo files) in the directory.
    let stray: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
}

/// Many versions with long names, a long run at short ticks: labels shrink or shorten,
/// layers fold into "other", and series are thinned, all without overflowing the image.
#[test]
fn crowded_charts_stay_inside_their_frame() {
    let (dir, _keep) = out_dir();
    let n = 14;
    let names: Vec<String> = (0..n)
        .map(|i| format!("3.{i}.0-rc.{}+build.{}", i % 3, 1000 + i))
        .collect();
    let ticks = 90 * 96 + 1; // 90 days of 15-minute ticks
    let axis = TimeAxis {
        tick_seconds: 900,
        ticks,
    };
    let layers: Vec<Line> = names
        .iter()
        .enumerate()
        .map(|(k, name)| Line {
            label: name.clone(),
            values: (0..ticks)
                .map(|t| {
                    let phase = t as f64 / ticks as f64 * n as f64 - k as f64;
                    1000.0 * (-phase * phase / 4.0).exp()
                })
                .collect(),
            colour: None,
        })
        .collect();
    let stacked = Chart::Stacked(StackedSeries {
        title: "Fleet software versions over time, cohort with a very long name that goes on"
            .repeat(2),
        y_desc: "Devices".to_owned(),
        y_unit: Unit::Devices,
        axis,
        layers,
    });
    let cells: Vec<Vec<u64>> = (0..n)
        .map(|r| {
            (0..n)
                .map(|c| {
                    if c >= r && c <= r + 2 {
                        (r * 997 + c * 13) as u64 % 40_000 + 1
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect();
    let cell_rules = cells
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(c, &v)| {
                    (v > 0).then(|| ["full", "delta", "must_pass_through"][c % 3].to_owned())
                })
                .collect()
        })
        .collect();
    let heat = Chart::Heat(MatrixHeat {
        title: "Version matrix, 14 versions".to_owned(),
        rows: names.clone(),
        cols: names,
        cells,
        cell_rules,
        row_final: vec![],
    });
    for (i, chart) in [stacked, heat].iter().enumerate() {
        let size = chart.default_size();
        let png = chart.to_png(size).expect("png");
        std::fs::write(dir.join(format!("crowded{i}.png")), &png).expect("write");
        let img = Image::decode(&png);
        assert_eq!((img.width, img.height), (size.width, size.height));
        // Nothing drawn in the outermost pixels: text and grid stay inside the frame.
        let (_, right_edge) = img.survey(size.width - 3..size.width, 0..size.height, WHITE_PX);
        let (_, bottom_edge) = img.survey(0..size.width, size.height - 3..size.height, WHITE_PX);
        assert!(
            right_edge < 0.01 && bottom_edge < 0.01,
            "{}: drawn past the edge",
            chart.title()
        );
        let svg = chart.to_svg(size).expect("svg");
        std::fs::write(dir.join(format!("crowded{i}.svg")), &svg).expect("write");
        assert!(svg.len() < 600_000, "SVG of {} bytes", svg.len());
        svg_texts(&svg);
    }
}
