"""Error pages and JSON errors in French: no stack trace, no English, the right status."""
from __future__ import annotations

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "La requête est invalide.",
    403: "Accès refusé.",
    404: "Cette page n’existe pas.",
    405: "Méthode non autorisée.",
    413: "Le contenu envoyé est trop volumineux.",
    422: "Certaines informations sont invalides.",
    429: "Trop de tentatives : merci de patienter avant de réessayer.",
    500: "Une erreur interne est survenue. Merci de réessayer dans un instant.",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, message: str | None = None):
    message = message or MESSAGES.get(status, "Erreur.")
    if wants_json():
        return jsonify({"error": message, "status": status}), status
    return render_template("error.html", status=status, message=message), status


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(_error):
        return error_response(400, "La session du formulaire a expiré. Merci de recharger la page et de réessayer.")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return error_response(error.code or 500)

    @app.errorhandler(Exception)
    def _unhandled(error: Exception):
        app.logger.exception("Erreur non gérée", exc_info=error)
        return error_response(500)
