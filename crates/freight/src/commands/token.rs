//! `freight token`: the API tokens of a server's data dir (docs/SERVER.md, "Access").

use crate::cli::{RoleArg, TokenArgs, TokenKind};
use anyhow::bail;
use freight_server::auth::{Role, Tokens};

pub fn run(args: &TokenArgs) -> anyhow::Result<()> {
    match &args.kind {
        TokenKind::Create { data_dir, role, name, teams, person, per_person } => {
            let role = role_of(*role, teams, person.as_deref(), *per_person)?;
            let (token, record) = Tokens::open(data_dir).create(name, role)?;
            eprintln!(
                "freight: token {} ({}) made; it is shown this once and kept only as a hash",
                record.id,
                record.role.name()
            );
            #[allow(clippy::print_stdout)]
            {
                println!("{token}");
            }
            Ok(())
        }
        TokenKind::List { data_dir, json } => {
            let records = Tokens::open(data_dir).records()?;
            #[allow(clippy::print_stdout)]
            if *json {
                let shown: Vec<serde_json::Value> = records
                    .iter()
                    .map(
                        |r| serde_json::json!({"id": r.id, "name": r.name, "role": r.role, "created_at": r.created_at}),
                    )
                    .collect();
                println!("{}", serde_json::to_string_pretty(&shown)?);
            } else {
                let mut table = comfy_table::Table::new();
                table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
                table.set_header(["id", "name", "role", "reach", "created"]);
                for record in &records {
                    let reach = match &record.role {
                        Role::TeamLead { teams } => teams.iter().cloned().collect::<Vec<_>>().join(", "),
                        Role::Engineer { person } => person.clone(),
                        Role::Finance { per_person: true } => "all teams, per person".into(),
                        Role::Finance { per_person: false } => "all teams".into(),
                        Role::Admin => "everything".into(),
                        Role::Ingest => "sends only".into(),
                    };
                    table.add_row([
                        record.id.clone(),
                        record.name.clone(),
                        record.role.name().to_string(),
                        reach,
                        record.created_at.clone(),
                    ]);
                }
                println!("{table}");
            }
            Ok(())
        }
        TokenKind::Revoke { data_dir, id } => {
            if !Tokens::open(data_dir).revoke(id)? {
                bail!("no token {id} in {} (see `freight token list`)", data_dir.display());
            }
            eprintln!("freight: token {id} revoked");
            Ok(())
        }
    }
}

fn role_of(role: RoleArg, teams: &[String], person: Option<&str>, per_person: bool) -> anyhow::Result<Role> {
    if !teams.is_empty() && role != RoleArg::TeamLead {
        bail!("--team goes with --role team-lead");
    }
    if person.is_some() && role != RoleArg::Engineer {
        bail!("--person goes with --role engineer");
    }
    if per_person && role != RoleArg::Finance {
        bail!("--per-person goes with --role finance");
    }
    Ok(match role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Finance => Role::Finance { per_person },
        RoleArg::Ingest => Role::Ingest,
        RoleArg::TeamLead if teams.is_empty() => bail!("--role team-lead needs at least one --team"),
        RoleArg::TeamLead => Role::TeamLead { teams: teams.iter().cloned().collect() },
        RoleArg::Engineer => match person {
            Some(person) => Role::Engineer { person: person.to_string() },
            None => bail!("--role engineer needs --person"),
        },
    })
}
