//! Line charts as SVG (plotters, SVG backend, no font files: text is laid out by plotters'
//! built-in estimate, so the output is identical on every machine).

use plotters::prelude::*;

/// One curve.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Index into a fixed palette.
    pub colour: usize,
    pub dashed: bool,
}

/// A line chart.
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub series: Vec<Series>,
}

const PALETTE: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(127, 127, 127),
];

/// Renders the chart to an SVG string.
pub fn render(chart: &Chart) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (720, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut c = ChartBuilder::on(&root)
            .caption(&chart.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(
                chart.x_range.0..chart.x_range.1,
                chart.y_range.0..chart.y_range.1,
            )
            .map_err(|e| e.to_string())?;
        c.configure_mesh()
            .x_desc(chart.x_label.as_str())
            .y_desc(chart.y_label.as_str())
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        for s in &chart.series {
            let colour = PALETTE[s.colour % PALETTE.len()];
            let style = ShapeStyle {
                color: colour.to_rgba(),
                filled: false,
                stroke_width: 2,
            };
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                // Points outside the frame are dropped, not clamped: a clamped curve would draw a
                // flat line that is not in the data.
                .filter(|(x, y)| {
                    x.is_finite()
                        && y.is_finite()
                        && (chart.y_range.0..=chart.y_range.1).contains(y)
                })
                .collect();
            let drawn = if s.dashed {
                c.draw_series(DashedLineSeries::new(pts, 6, 4, style))
                    .map_err(|e| e.to_string())?
            } else {
                c.draw_series(LineSeries::new(pts, style))
                    .map_err(|e| e.to_string())?
            };
            // A series with an empty name continues the previous one in the legend.
            if !s.name.is_empty() {
                drawn
                    .label(s.name.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            }
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}
