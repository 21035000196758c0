//! `sslproof`: verify every claim of the notes and print the verdicts; write the derivations;
//! check a loss implementation's numbers; write golden files. One function per subcommand; the
//! work is in the engine, `sslproof-theorems` and `sslproof-losses`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::builder::TypedValueParser as _;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use sslproof::claim::{Config, Report};
use sslproof::report;
use sslproof_losses::estimate::TolMode;
use sslproof_losses::loss::Loss;
use sslproof_losses::registry::{self, LossSpec};
use sslproof_losses::rounding::Precision;
use sslproof_losses::{checker, golden, input};
use sslproof_theorems::{self as theorems, Entry};

/// Writes to standard output without ever panicking. A closed pipe (`sslproof check … | head -c1`)
/// is the reader's choice, not an error: the rest is dropped and the exit code stays the one the
/// work earned. Any other write error (`> /dev/full`) is an error: exit 2.
fn emit(text: &str) -> Result<()> {
    use std::io::Write;
    static CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        }
        Err(e) => bail!("writing to standard output: {e}"),
    }
}

macro_rules! out {
    ($($t:tt)*) => { emit(&format!($($t)*))? };
}
macro_rules! outln {
    ($($t:tt)*) => { emit(&format!("{}\n", format_args!($($t)*)))? };
}

#[derive(Parser)]
#[command(name = "sslproof", version, about = "Proves and checks the mathematics behind covariance-regularised self-supervised learning", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct RunArgs {
    /// Only these claims (id or label, e.g. `A1` or `neg_logdet_taylor_second_order`); repeatable.
    #[arg(long = "claim", value_name = "ID")]
    claims: Vec<String>,
    /// Working precision in bits of every numeric (MPFR) check.
    #[arg(long, default_value_t = Config::default().prec, value_parser = clap::value_parser!(u32).range(64..=4096))]
    prec: u32,
    /// Randomised cases of each claim's main property; every other randomised check scales from
    /// its default by CASES/1000.
    #[arg(long, default_value_t = Config::default().cases as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    cases: u64,
    /// Base seed; every check derives its own from it, the claim id and the check's name.
    #[arg(long, default_value_t = Config::default().seed)]
    seed: u64,
    /// Largest dimension with a fully symbolic matrix.
    #[arg(long, default_value_t = Config::default().sym_d_max as u64, value_parser = clap::value_parser!(u64).range(1..=9))]
    sym_d_max: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Verify every claim and print claim, label, verdict and reason. Exits 1 when a computed
    /// verdict differs from the committed one (snapshots/<id>@verdict.snap; compared only at the
    /// default settings), 2 on bad usage.
    Verify {
        #[command(flatten)]
        run: RunArgs,
        /// Also write one JSON record per claim (evidence, settings, seeds, mutants) to this file.
        #[arg(long, value_name = "PATH")]
        json: Option<PathBuf>,
        /// Where the committed verdict snapshots are.
        #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots"))]
        snapshots: PathBuf,
    },
    /// Write docs/derivations/<id>.md (and figures) for every claim, README.md there as an index,
    /// and the verdict table of the repository README.
    Derive {
        #[command(flatten)]
        run: RunArgs,
        /// Output directory.
        #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/derivations"))]
        out: PathBuf,
        /// The README whose verdict table (between its markers) is rewritten.
        #[arg(long, value_name = "PATH", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))]
        readme: PathBuf,
        /// Write nothing; exit 1 if any committed document differs from what would be written.
        #[arg(long)]
        check: bool,
    },
    /// List the claims of the catalogue.
    List,
    /// Check your loss value (and gradients) against the reference, within a tolerance derived
    /// for your precision; on a disagreement, name the first disagreeing component and the
    /// variant or common mistake your numbers match. Exit 0: agrees; 1: disagrees; 2: bad input
    /// or usage; 3: your precision cannot give a trustworthy answer here.
    #[command(
        after_help = "Example:\n  sslproof check --loss vicreg --inputs z1.npy z2.npy --value 24.93 --grad g1.npy g2.npy\n\nInputs are 2-D float64 or float32 .npy arrays, rows are samples. `sslproof losses` lists the losses, variants, parameters and inputs."
    )]
    Check(CheckArgs),
    /// Write golden files: seeded inputs, reference values and gradients (.npy) and one JSON
    /// manifest per loss with the convention, precision, correct digits and tolerances.
    Golden {
        /// Output directory.
        #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../golden"))]
        out: PathBuf,
        /// Only these losses (repeatable).
        #[arg(long, value_parser = loss_parser())]
        loss: Vec<&'static dyn Loss>,
        /// The large cases (up to B = 512, d = 8192; not committed), instead of the small ones.
        #[arg(long)]
        large: bool,
    },
    /// List the losses the checker knows: variants with their sources, parameters, inputs and the
    /// common mistakes it recognises.
    Losses,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The loss.
    #[arg(long, value_parser = loss_parser())]
    loss: &'static dyn Loss,
    /// The implementation's convention (default: the official code's).
    #[arg(long)]
    variant: Option<String>,
    /// Override a parameter, e.g. `--param eps=0.05` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, f64)>,
    /// The inputs, in the loss's order (see `sslproof losses`).
    #[arg(long, num_args = 1.., required_unless_present = "npz", conflicts_with = "npz", value_name = "NPY")]
    inputs: Vec<PathBuf>,
    /// Everything in one `.npz` (numpy `savez`): arrays named like the inputs (`z1`, `z2`, …),
    /// optionally `grad_<input>` for each input and a one-element `value`.
    #[arg(long, value_name = "NPZ")]
    npz: Option<PathBuf>,
    /// Your loss value (overrides the `.npz`'s `value`). Negative values may follow a space:
    /// `--value -3.5`.
    #[arg(long, allow_negative_numbers = true, allow_hyphen_values = true)]
    value: Option<f64>,
    /// Your gradients with respect to each input, same order and shapes.
    #[arg(long, num_args = 1.., conflicts_with = "npz", value_name = "NPY")]
    grad: Vec<PathBuf>,
    /// The arithmetic you computed in (default: f32 if any input is float32, else f64).
    #[arg(long, value_parser = precision_parser())]
    precision: Option<Precision>,
    /// The gradients' tolerance. `estimate`: the a-priori bound scaled to the error our
    /// implementation makes at your inputs in your precision (f32; tf32 and bf16 with its matrix
    /// products emulated, for the losses that have them; f64 uses the bound) under 4 to 16
    /// summation orders (more for small inputs), times a calibrated factor (in tf32 and bf16 entry
    /// by entry, from the errors in the entry's row and column; docs/losses.md, "Estimated
    /// tolerances"; the power gained is in docs/validation/power.md); whether your
    /// precision can conclude (exit 3) is then judged on it; it costs that many float32
    /// evaluations of the loss. `bound`: the a-priori bound alone.
    #[arg(long, default_value = "estimate", value_parser = ["estimate", "bound"])]
    tolerance: String,
    /// Working precision in bits of the MPFR reference.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(64..=4096))]
    prec: u32,
    /// Memory budget for reading the files and for the check, decided before allocating: a job
    /// that needs more is refused (exit 2) with the shape and the amount. Bytes, or with a
    /// suffix K, M, G, T (powers of 1024).
    #[arg(long, value_name = "BYTES", default_value = "8G", value_parser = parse_bytes)]
    max_memory: u128,
    /// Also write the report as JSON.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
}

/// `--loss`: one of the registry's names.
fn loss_parser() -> impl clap::builder::TypedValueParser<Value = &'static dyn Loss> {
    clap::builder::PossibleValuesParser::new(registry::names())
        .map(|s: String| registry::find(&s).expect("a listed name"))
}

/// `--max-memory`: `8G`, `512M`, `1073741824`.
fn parse_bytes(s: &str) -> Result<u128, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u128 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("unknown unit {c:?} (use K, M, G or T)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u128 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a whole number of bytes (e.g. 8G, 512M)"))?;
    n.checked_mul(mult)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("{s:?} is not a usable budget"))
}

/// `--precision`: the user's arithmetic.
fn precision_parser() -> impl clap::builder::TypedValueParser<Value = Precision> {
    clap::builder::PossibleValuesParser::new(Precision::ALL.map(Precision::as_str))
        .map(|s: String| Precision::parse(&s).expect("a listed name"))
}

fn parse_param(s: &str) -> std::result::Result<(String, f64), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))?;
    let x: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("{v:?} is not a number"))?;
    Ok((k.trim().to_string(), x))
}

fn config(a: &RunArgs) -> Config {
    Config {
        prec: a.prec,
        cases: a.cases as usize,
        seed: a.seed,
        sym_d_max: a.sym_d_max as usize,
    }
}

/// The claims named on the command line (all of them by default).
fn select(a: &RunArgs) -> Result<Vec<&'static Entry>> {
    if a.claims.is_empty() {
        return Ok(theorems::CATALOGUE.iter().collect());
    }
    a.claims
        .iter()
        .map(|want| {
            theorems::find(want).with_context(|| {
                format!(
                    "unknown claim `{want}`; known claims: {}",
                    theorems::CATALOGUE
                        .iter()
                        .map(|e| format!("{} ({})", e.claim.label, e.claim.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect()
}

/// Runs the claims with a progress bar and a timing line per claim on stderr.
fn run_all(entries: &[&Entry], cfg: &Config) -> Vec<Report> {
    let bar = ProgressBar::new(entries.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut out = Vec::new();
    for e in entries {
        bar.set_message(format!("{} {}", e.claim.label, e.claim.id));
        let t = Instant::now();
        let r = theorems::run(e, cfg);
        bar.suspend(|| {
            eprintln!(
                "  {:<4} {:<58} {:>6.2}s",
                e.claim.label,
                e.claim.id,
                t.elapsed().as_secs_f64()
            )
        });
        out.push(r);
        bar.inc(1);
    }
    bar.finish_and_clear();
    out
}

fn verify(run: &RunArgs, json: Option<&Path>, snapshots: &Path) -> Result<ExitCode> {
    let entries = select(run)?;
    let cfg = config(run);
    let reports = run_all(&entries, &cfg);
    let compare = sslproof::sym::AVAILABLE && cfg == Config::default();
    let mut regressions = Vec::new();
    outln!("{:<5} {:<58} {:<28} reason", "label", "claim", "verdict");
    for r in &reports {
        outln!(
            "{:<5} {:<58} {:<28} {}",
            r.claim.label,
            r.claim.id,
            r.verdict.class().name(),
            r.summary
        );
        let path = snapshots.join(format!("{}@verdict.snap", r.claim.id));
        match std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| report::committed_verdict(&t))
        {
            Some(c) if compare && c != r.verdict.to_string() => regressions.push(format!(
                "{}: committed `{c}`, computed `{}`",
                r.claim.id, r.verdict
            )),
            Some(_) => {}
            None => eprintln!(
                "note: no committed verdict for {} in {}",
                r.claim.id,
                snapshots.display()
            ),
        }
    }
    if !sslproof::sym::AVAILABLE {
        eprintln!(
            "note: built without the `symbolic` feature: symbolic evidence not run, verdicts not compared with the committed ones"
        );
    } else if !compare {
        eprintln!(
            "note: settings other than the defaults: verdicts not compared with the committed ones"
        );
    }
    if let Some(path) = json {
        let records: Vec<_> = reports.iter().map(report::record).collect();
        let text = serde_json::to_string_pretty(&records)?;
        sslproof_losses::npy::write_atomic(path, (text + "\n").as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {} records to {}", records.len(), path.display());
    }
    if regressions.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("verdict regressions:\n  {}", regressions.join("\n  "));
        Ok(ExitCode::from(1))
    }
}

fn derive(run: &RunArgs, out: &Path, readme: &Path, check: bool) -> Result<ExitCode> {
    if !sslproof::sym::AVAILABLE {
        bail!("derive needs the `symbolic` feature (the derivations carry symbolica's LaTeX)");
    }
    if !run.claims.is_empty() {
        bail!("derive writes every claim's document and the index: --claim does not apply");
    }
    let entries = select(run)?;
    let reports = run_all(&entries, &config(run));
    let mut files: Vec<(PathBuf, String)> = report::derivation_files(&reports)
        .into_iter()
        .map(|(name, content)| (out.join(name), content))
        .collect();
    let old =
        std::fs::read_to_string(readme).with_context(|| format!("reading {}", readme.display()))?;
    let new = report::readme_with_table(&old, &reports).with_context(|| {
        format!(
            "{} has no verdict-table markers ({} … {})",
            readme.display(),
            report::README_TABLE_BEGIN,
            report::README_TABLE_END
        )
    })?;
    files.push((readme.to_path_buf(), new));
    let mut stale = Vec::new();
    for (path, content) in &files {
        if check {
            if std::fs::read_to_string(path).ok().as_deref() != Some(content.as_str()) {
                stale.push(path.display().to_string());
            }
        } else {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, content).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if check && !stale.is_empty() {
        eprintln!("stale (run `sslproof derive`):\n  {}", stale.join("\n  "));
        return Ok(ExitCode::from(1));
    }
    eprintln!(
        "{} {} files",
        if check { "checked" } else { "wrote" },
        files.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn list() -> Result<ExitCode> {
    for e in theorems::CATALOGUE {
        outln!("{:<5} {:<58} {}", e.claim.label, e.claim.id, e.claim.title);
    }
    Ok(ExitCode::SUCCESS)
}

fn check(a: &CheckArgs) -> Result<ExitCode> {
    let spec = LossSpec::new(a.loss, a.variant.as_deref(), &a.params)?;
    let files = match &a.npz {
        Some(path) => input::from_npz(&spec, path, a.max_memory)?,
        None => input::from_npy(&a.inputs, &a.grad, a.max_memory)?,
    };
    let (value, from) = match (a.value, files.value) {
        (Some(v), _) => (v, "--value".to_string()),
        (None, Some(v)) => (
            v,
            format!(
                "{}[value]",
                a.npz.as_deref().unwrap_or(Path::new("")).display()
            ),
        ),
        (None, None) => {
            bail!("no loss value: give --value (or a one-element array `value` in the .npz)")
        }
    };
    if !value.is_finite() {
        bail!("{from}: the loss value is {value}; a finite value is needed to compare");
    }
    let precision = a.precision.unwrap_or(if files.any_f32 {
        Precision::F32
    } else {
        Precision::F64
    });
    let opts = checker::Options {
        precision,
        hp_bits: a.prec,
        max_memory: a.max_memory,
        tolerance: TolMode::parse(&a.tolerance).expect("a listed name"),
        ..checker::Options::default()
    };
    let user = checker::UserNumbers {
        value,
        grads: files.grads,
    };
    // The estimate's runs are the long part of a large check (a minute at the coding rate's
    // 512 × 8192): a bar on stderr while they run (hidden when stderr is not a terminal).
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} estimating the tolerance at your inputs: run {pos}/{len}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let shown = bar.clone();
    let opts = checker::Options {
        progress: checker::Progress(Some(std::sync::Arc::new(move |done, total| {
            if done == 0 {
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                shown.set_length(total as u64);
            }
            shown.set_position(done as u64);
        }))),
        ..opts
    };
    let report = checker::check(&spec, &files.inputs, &user, &opts);
    bar.finish_and_clear();
    let report = report?;
    out!("{}", report.render());
    if let Some(path) = &a.json {
        sslproof_losses::npy::write_atomic(
            path,
            (serde_json::to_string_pretty(&report)? + "\n").as_bytes(),
        )
        .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::from(report.exit_code()))
}

fn golden(out: &Path, losses: &[&'static dyn Loss], large: bool) -> Result<ExitCode> {
    let list: Vec<&'static dyn Loss> = if losses.is_empty() {
        registry::LOSSES.to_vec()
    } else {
        losses.to_vec()
    };
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
            .expect("valid template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    for loss in list {
        let t = Instant::now();
        let path = golden::write_loss(out, loss, large, &mut |name| {
            bar.set_message(name.to_string())
        })?;
        bar.suspend(|| {
            eprintln!(
                "  {:<14} {:>7.2}s  {}",
                loss.name(),
                t.elapsed().as_secs_f64(),
                path.display()
            )
        });
    }
    bar.finish_and_clear();
    Ok(ExitCode::SUCCESS)
}

fn losses() -> Result<ExitCode> {
    for &loss in registry::LOSSES {
        outln!("{loss}");
        for (i, v) in loss.variants().iter().enumerate() {
            let params: Vec<String> = v
                .params
                .iter()
                .map(|p| format!("{}={}", p.name, p.default))
                .collect();
            outln!(
                "  --variant {}{}\n      inputs: {}{}\n      params: {}\n      {}\n      source: {}",
                v.name,
                if i == 0 { " (default)" } else { "" },
                loss.input_names(v, 3).join(" "),
                if loss.variable_views(v) {
                    " … (one per view, 2 or more)"
                } else {
                    ""
                },
                if params.is_empty() {
                    "none".to_string()
                } else {
                    params.join(" ")
                },
                v.formula,
                v.source
            );
        }
        let ms: Vec<&str> = loss.mistakes().iter().map(|m| m.id).collect();
        outln!("  mistakes recognised: {}\n", ms.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Verify {
            run,
            json,
            snapshots,
        } => verify(run, json.as_deref(), snapshots),
        Command::Derive {
            run,
            out,
            readme,
            check,
        } => derive(run, out, readme, *check),
        Command::List => list(),
        Command::Check(a) => check(a),
        Command::Golden { out, loss, large } => golden(out, loss, *large),
        Command::Losses => losses(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
