"""`faqbot staff …`: create, list, deactivate staff accounts and reset a password from the server's shell."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..db import get_db, utcnow
from ..models import StaffUser
from . import accounts


@click.group("staff", help="Comptes de l’équipe support (console /staff).")
def staff_group() -> None:
    pass


@staff_group.command("add", help="Crée un compte ; le mot de passe est demandé (12 caractères au moins).")
@click.argument("email")
@click.option("--role", type=click.Choice(["agent", "admin"]), default="agent", show_default=True, help="agent : traite les tickets ; admin : gère aussi les comptes et voit les statistiques.")
@click.option("--name", "display_name", default="", help="Nom affiché (signature des réponses).")
@click.password_option("--password", prompt="Mot de passe", confirmation_prompt="Confirmez le mot de passe", help="Demandé s’il n’est pas donné.")
@with_appcontext
def add(email: str, role: str, display_name: str, password: str) -> None:
    try:
        with get_db().transaction() as session:
            user = accounts.create_staff(session, email, password, role, utcnow(), display_name)
            email = user.email
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Compte {role} créé : {email}")


@staff_group.command("deactivate", help="Désactive un compte et ferme toutes ses sessions.")
@click.argument("email")
@with_appcontext
def deactivate(email: str) -> None:
    with get_db().transaction() as session:
        user = accounts.find_by_email(session, email)
        if user is None:
            raise click.ClickException(f"Aucun compte pour {email}.")
        accounts.deactivate(session, user, utcnow())
    click.echo(f"Compte désactivé, sessions fermées : {accounts.normalize_email(email)}")


@staff_group.command("password", help="Remplace le mot de passe d’un compte (ferme ses sessions).")
@click.argument("email")
@click.password_option("--password", prompt="Nouveau mot de passe", confirmation_prompt="Confirmez le mot de passe")
@with_appcontext
def password(email: str, password: str) -> None:
    try:
        with get_db().transaction() as session:
            user = accounts.find_by_email(session, email)
            if user is None:
                raise click.ClickException(f"Aucun compte pour {email}.")
            accounts.set_password(session, user, password, utcnow())
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Mot de passe remplacé : {accounts.normalize_email(email)}")


@staff_group.command("list", help="Liste les comptes.")
@with_appcontext
def list_accounts() -> None:
    with get_db().transaction() as session:
        for user in session.scalars(select(StaffUser).order_by(StaffUser.email)):
            state = "actif" if user.active else "désactivé"
            click.echo(f"{user.email}\t{user.role}\t{state}")
