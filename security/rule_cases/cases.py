"""Cases for ``semgrep --test``: each ``ruleid:`` line must be found, each ``ok:`` line not."""

# ruff: noqa
import os
import pickle
import subprocess

import jwt
import yaml
from flask import Flask, redirect, render_template_string, request
from markupsafe import Markup
from sqlalchemy import text


def sql(db, name):
    # ruleid: sql-built-from-strings
    db.execute(f"SELECT * FROM users WHERE name = '{name}'")
    # ruleid: sql-built-from-strings
    db.execute("SELECT * FROM users WHERE name = '%s'" % name)
    query = "SELECT * FROM users WHERE name = '{}'".format(name)
    # ruleid: sql-built-from-strings
    db.execute(query)
    # ok: sql-built-from-strings
    db.execute(text("SELECT * FROM users WHERE name = :name"), {"name": name})
    # ruleid: sqlalchemy-text-from-strings
    return text(f"SELECT * FROM users WHERE name = '{name}'")


def web(app: Flask, html, token, key):
    # ruleid: render-template-string
    render_template_string(html)
    # ruleid: markup-from-variable
    Markup(html)
    # ok: markup-from-variable
    Markup("<b>fixed</b>")
    # ruleid: jwt-decode-without-algorithms
    jwt.decode(token, key)
    # ok: jwt-decode-without-algorithms
    jwt.decode(token, key, algorithms=["HS256"])
    # ruleid: redirect-to-request-value
    redirect(request.args.get("next"))
    # ruleid: flask-debug
    app.run(debug=True)


def system(command, raw):
    # ruleid: subprocess-shell
    subprocess.run(command, shell=True)
    # ok: subprocess-shell
    subprocess.run(["ls", command])
    # ruleid: subprocess-shell
    os.system(command)
    # ruleid: yaml-load-unsafe
    yaml.load(raw)
    # ok: yaml-load-unsafe
    yaml.load(raw, Loader=yaml.SafeLoader)
    # ruleid: pickle-load
    pickle.loads(raw)
    # ruleid: eval-or-exec
    eval(raw)
