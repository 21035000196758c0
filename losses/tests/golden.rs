//! The committed golden files and the conventions table of `docs/losses.md` against the
//! registry and the code that writes them.

use sslproof_losses::{golden, registry};

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn golden_dir() -> std::path::PathBuf {
    repo().join("golden")
}

#[test]
fn committed_golden_files_are_current() {
    let dir = std::env::temp_dir().join(format!("sslproof-golden-{}", std::process::id()));
    for &loss in registry::LOSSES {
        golden::write_loss(&dir, loss, false, &mut |_| {}).unwrap();
    }
    fn close(a: &serde_json::Value, b: &serde_json::Value, at: &str) {
        use serde_json::Value::*;
        match (a, b) {
            (Number(x), Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                assert!(
                    (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                    "{at}: {x} vs {y}"
                );
            }
            (Array(x), Array(y)) => {
                assert_eq!(x.len(), y.len(), "{at}");
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    close(p, q, &format!("{at}[{i}]"));
                }
            }
            (Object(x), Object(y)) => {
                assert_eq!(
                    x.keys().collect::<Vec<_>>(),
                    y.keys().collect::<Vec<_>>(),
                    "{at}"
                );
                for (k, p) in x {
                    close(p, &y[k], &format!("{at}.{k}"));
                }
            }
            (String(x), String(y)) if at.ends_with("value_decimal") => {
                assert_eq!(x[..20], y[..20], "{at}")
            }
            _ => assert_eq!(a, b, "{at}"),
        }
    }
    let mut n = 0;
    for loss in registry::names() {
        let read = |root: &std::path::Path| -> serde_json::Value {
            serde_json::from_str(
                &std::fs::read_to_string(root.join(format!("{loss}.json"))).unwrap(),
            )
            .unwrap()
        };
        let (fresh, committed) = (read(&dir), read(&golden_dir()));
        let mut fresh_c = fresh.clone();
        fresh_c["generator"] = committed["generator"].clone();
        close(&fresh_c, &committed, loss);
        for c in committed["cases"].as_array().unwrap() {
            for key in ["inputs", "grads"] {
                for (_, p) in c[key].as_object().unwrap() {
                    let p = p.as_str().unwrap();
                    let (a, b) = (
                        std::fs::read(dir.join(p)).unwrap(),
                        std::fs::read(golden_dir().join(p)).unwrap(),
                    );
                    if key == "inputs" || c["reference"] != "f64" {
                        assert!(a == b, "{p} differs: regenerate with `sslproof golden`");
                    }
                    n += 1;
                }
            }
        }
    }
    assert!(n > 200, "{n}");
    std::fs::remove_dir_all(&dir).ok();
}

/// docs/losses.md documents every loss, variant and recognised mistake of the registry.
#[test]
fn the_conventions_table_covers_the_registry() {
    let doc = std::fs::read_to_string(repo().join("docs/losses.md")).unwrap();
    for &loss in registry::LOSSES {
        assert!(
            doc.contains(&format!("`{loss}`")),
            "docs/losses.md: no `{loss}`"
        );
        for v in loss.variants() {
            assert!(
                doc.contains(&format!("`{}`", v.name)),
                "docs/losses.md: no variant `{}` of {loss}",
                v.name
            );
            for param in v.params {
                let (p, x) = (param.name, param.default);
                // Either 0.0001 or 1e-4, followed by a space or the cell's end.
                let found = [format!("{p}={x}"), format!("{p}={x:e}")]
                    .iter()
                    .any(|w| doc.contains(&format!("{w} ")) || doc.contains(&format!("{w} |")));
                assert!(found, "docs/losses.md: {loss} {}: no {p}={x}", v.name);
            }
        }
        for m in loss.mistakes() {
            assert!(
                doc.contains(&format!("`{}`", m.id)),
                "docs/losses.md: no mistake `{}` of {loss}",
                m.id
            );
        }
    }
}
