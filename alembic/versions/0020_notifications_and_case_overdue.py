"""notifications, deliveries, preferences, account links, escalation; case overdue

Revision ID: 0020
Revises: 0011
Create Date: 2026-12-04 05:45:22

Also re-installs the case_listing triggers (0011) so the listed JSON carries `overdue`.
"""
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.core.db

revision: str = '0020'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# fmt: off
# app.cases.listing's output with `overdue` in the cases' JSON, frozen (see 0011).
SQLITE_TRIGGERS = [
    'CREATE TRIGGER case_listing_on_insert AFTER INSERT ON "case" BEGIN INSERT INTO case_listing (case_id, full_json, summary_json) VALUES (NEW.id, json_object(\'id\', NEW.id, \'created_at\', CASE WHEN substr(NEW.created_at, 21) = \'000000\' THEN substr(NEW.created_at, 1, 10) || \'T\' || substr(NEW.created_at, 12, 8) || \'Z\' ELSE substr(NEW.created_at, 1, 10) || \'T\' || substr(NEW.created_at, 12) || \'Z\' END, \'updated_at\', CASE WHEN substr(NEW.updated_at, 21) = \'000000\' THEN substr(NEW.updated_at, 1, 10) || \'T\' || substr(NEW.updated_at, 12, 8) || \'Z\' ELSE substr(NEW.updated_at, 1, 10) || \'T\' || substr(NEW.updated_at, 12) || \'Z\' END, \'organization_id\', NEW.organization_id, \'specialty\', NEW.specialty, \'urgency\', NEW.urgency, \'question\', NEW.question, \'summary\', NEW.summary, \'languages\', json(NEW.languages), \'interpreter_needed\', CASE WHEN NEW.interpreter_needed THEN json(\'true\') ELSE json(\'false\') END, \'status\', NEW.status, \'respond_by\', CASE WHEN substr(NEW.respond_by, 21) = \'000000\' THEN substr(NEW.respond_by, 1, 10) || \'T\' || substr(NEW.respond_by, 12, 8) || \'Z\' ELSE substr(NEW.respond_by, 1, 10) || \'T\' || substr(NEW.respond_by, 12) || \'Z\' END, \'overdue\', CASE WHEN NEW.overdue THEN json(\'true\') ELSE json(\'false\') END, \'view\', \'full\', \'patient\', json_object(\'reference\', NEW.patient_reference, \'age_years\', CASE WHEN NEW.patient_age_years IS NULL THEN NULL ELSE json(printf(\'%!.17g\', NEW.patient_age_years)) END, \'sex\', NEW.patient_sex), \'consent\', json_object(\'obtained\', json(\'true\'), \'method\', NEW.consent_method), \'follow_up_of\', NEW.follow_up_of_id, \'submitted_by_id\', NEW.submitted_by_id, \'submitted_by_client_id\', NEW.submitted_by_client_id, \'assigned_specialist_id\', NEW.assigned_specialist_id, \'assigned_at\', CASE WHEN substr(NEW.assigned_at, 21) = \'000000\' THEN substr(NEW.assigned_at, 1, 10) || \'T\' || substr(NEW.assigned_at, 12, 8) || \'Z\' ELSE substr(NEW.assigned_at, 1, 10) || \'T\' || substr(NEW.assigned_at, 12) || \'Z\' END, \'answered_at\', CASE WHEN substr(NEW.answered_at, 21) = \'000000\' THEN substr(NEW.answered_at, 1, 10) || \'T\' || substr(NEW.answered_at, 12, 8) || \'Z\' ELSE substr(NEW.answered_at, 1, 10) || \'T\' || substr(NEW.answered_at, 12) || \'Z\' END, \'closed_at\', CASE WHEN substr(NEW.closed_at, 21) = \'000000\' THEN substr(NEW.closed_at, 1, 10) || \'T\' || substr(NEW.closed_at, 12, 8) || \'Z\' ELSE substr(NEW.closed_at, 1, 10) || \'T\' || substr(NEW.closed_at, 12) || \'Z\' END, \'cancelled_at\', CASE WHEN substr(NEW.cancelled_at, 21) = \'000000\' THEN substr(NEW.cancelled_at, 1, 10) || \'T\' || substr(NEW.cancelled_at, 12, 8) || \'Z\' ELSE substr(NEW.cancelled_at, 1, 10) || \'T\' || substr(NEW.cancelled_at, 12) || \'Z\' END, \'outcome\', NEW.outcome, \'cancel_reason\', NEW.cancel_reason, \'version\', NEW.version), json_object(\'id\', NEW.id, \'created_at\', CASE WHEN substr(NEW.created_at, 21) = \'000000\' THEN substr(NEW.created_at, 1, 10) || \'T\' || substr(NEW.created_at, 12, 8) || \'Z\' ELSE substr(NEW.created_at, 1, 10) || \'T\' || substr(NEW.created_at, 12) || \'Z\' END, \'updated_at\', CASE WHEN substr(NEW.updated_at, 21) = \'000000\' THEN substr(NEW.updated_at, 1, 10) || \'T\' || substr(NEW.updated_at, 12, 8) || \'Z\' ELSE substr(NEW.updated_at, 1, 10) || \'T\' || substr(NEW.updated_at, 12) || \'Z\' END, \'organization_id\', NEW.organization_id, \'specialty\', NEW.specialty, \'urgency\', NEW.urgency, \'question\', NEW.question, \'summary\', NEW.summary, \'languages\', json(NEW.languages), \'interpreter_needed\', CASE WHEN NEW.interpreter_needed THEN json(\'true\') ELSE json(\'false\') END, \'status\', NEW.status, \'respond_by\', CASE WHEN substr(NEW.respond_by, 21) = \'000000\' THEN substr(NEW.respond_by, 1, 10) || \'T\' || substr(NEW.respond_by, 12, 8) || \'Z\' ELSE substr(NEW.respond_by, 1, 10) || \'T\' || substr(NEW.respond_by, 12) || \'Z\' END, \'overdue\', CASE WHEN NEW.overdue THEN json(\'true\') ELSE json(\'false\') END, \'view\', \'summary\', \'patient\', json_object(\'age_years\', CASE WHEN NEW.patient_age_years IS NULL THEN NULL ELSE json(printf(\'%!.17g\', NEW.patient_age_years)) END, \'sex\', NEW.patient_sex))) ON CONFLICT (case_id) DO UPDATE SET full_json = excluded.full_json, summary_json = excluded.summary_json; END',
    'CREATE TRIGGER case_listing_on_update AFTER UPDATE ON "case" BEGIN INSERT INTO case_listing (case_id, full_json, summary_json) VALUES (NEW.id, json_object(\'id\', NEW.id, \'created_at\', CASE WHEN substr(NEW.created_at, 21) = \'000000\' THEN substr(NEW.created_at, 1, 10) || \'T\' || substr(NEW.created_at, 12, 8) || \'Z\' ELSE substr(NEW.created_at, 1, 10) || \'T\' || substr(NEW.created_at, 12) || \'Z\' END, \'updated_at\', CASE WHEN substr(NEW.updated_at, 21) = \'000000\' THEN substr(NEW.updated_at, 1, 10) || \'T\' || substr(NEW.updated_at, 12, 8) || \'Z\' ELSE substr(NEW.updated_at, 1, 10) || \'T\' || substr(NEW.updated_at, 12) || \'Z\' END, \'organization_id\', NEW.organization_id, \'specialty\', NEW.specialty, \'urgency\', NEW.urgency, \'question\', NEW.question, \'summary\', NEW.summary, \'languages\', json(NEW.languages), \'interpreter_needed\', CASE WHEN NEW.interpreter_needed THEN json(\'true\') ELSE json(\'false\') END, \'status\', NEW.status, \'respond_by\', CASE WHEN substr(NEW.respond_by, 21) = \'000000\' THEN substr(NEW.respond_by, 1, 10) || \'T\' || substr(NEW.respond_by, 12, 8) || \'Z\' ELSE substr(NEW.respond_by, 1, 10) || \'T\' || substr(NEW.respond_by, 12) || \'Z\' END, \'overdue\', CASE WHEN NEW.overdue THEN json(\'true\') ELSE json(\'false\') END, \'view\', \'full\', \'patient\', json_object(\'reference\', NEW.patient_reference, \'age_years\', CASE WHEN NEW.patient_age_years IS NULL THEN NULL ELSE json(printf(\'%!.17g\', NEW.patient_age_years)) END, \'sex\', NEW.patient_sex), \'consent\', json_object(\'obtained\', json(\'true\'), \'method\', NEW.consent_method), \'follow_up_of\', NEW.follow_up_of_id, \'submitted_by_id\', NEW.submitted_by_id, \'submitted_by_client_id\', NEW.submitted_by_client_id, \'assigned_specialist_id\', NEW.assigned_specialist_id, \'assigned_at\', CASE WHEN substr(NEW.assigned_at, 21) = \'000000\' THEN substr(NEW.assigned_at, 1, 10) || \'T\' || substr(NEW.assigned_at, 12, 8) || \'Z\' ELSE substr(NEW.assigned_at, 1, 10) || \'T\' || substr(NEW.assigned_at, 12) || \'Z\' END, \'answered_at\', CASE WHEN substr(NEW.answered_at, 21) = \'000000\' THEN substr(NEW.answered_at, 1, 10) || \'T\' || substr(NEW.answered_at, 12, 8) || \'Z\' ELSE substr(NEW.answered_at, 1, 10) || \'T\' || substr(NEW.answered_at, 12) || \'Z\' END, \'closed_at\', CASE WHEN substr(NEW.closed_at, 21) = \'000000\' THEN substr(NEW.closed_at, 1, 10) || \'T\' || substr(NEW.closed_at, 12, 8) || \'Z\' ELSE substr(NEW.closed_at, 1, 10) || \'T\' || substr(NEW.closed_at, 12) || \'Z\' END, \'cancelled_at\', CASE WHEN substr(NEW.cancelled_at, 21) = \'000000\' THEN substr(NEW.cancelled_at, 1, 10) || \'T\' || substr(NEW.cancelled_at, 12, 8) || \'Z\' ELSE substr(NEW.cancelled_at, 1, 10) || \'T\' || substr(NEW.cancelled_at, 12) || \'Z\' END, \'outcome\', NEW.outcome, \'cancel_reason\', NEW.cancel_reason, \'version\', NEW.version), json_object(\'id\', NEW.id, \'created_at\', CASE WHEN substr(NEW.created_at, 21) = \'000000\' THEN substr(NEW.created_at, 1, 10) || \'T\' || substr(NEW.created_at, 12, 8) || \'Z\' ELSE substr(NEW.created_at, 1, 10) || \'T\' || substr(NEW.created_at, 12) || \'Z\' END, \'updated_at\', CASE WHEN substr(NEW.updated_at, 21) = \'000000\' THEN substr(NEW.updated_at, 1, 10) || \'T\' || substr(NEW.updated_at, 12, 8) || \'Z\' ELSE substr(NEW.updated_at, 1, 10) || \'T\' || substr(NEW.updated_at, 12) || \'Z\' END, \'organization_id\', NEW.organization_id, \'specialty\', NEW.specialty, \'urgency\', NEW.urgency, \'question\', NEW.question, \'summary\', NEW.summary, \'languages\', json(NEW.languages), \'interpreter_needed\', CASE WHEN NEW.interpreter_needed THEN json(\'true\') ELSE json(\'false\') END, \'status\', NEW.status, \'respond_by\', CASE WHEN substr(NEW.respond_by, 21) = \'000000\' THEN substr(NEW.respond_by, 1, 10) || \'T\' || substr(NEW.respond_by, 12, 8) || \'Z\' ELSE substr(NEW.respond_by, 1, 10) || \'T\' || substr(NEW.respond_by, 12) || \'Z\' END, \'overdue\', CASE WHEN NEW.overdue THEN json(\'true\') ELSE json(\'false\') END, \'view\', \'summary\', \'patient\', json_object(\'age_years\', CASE WHEN NEW.patient_age_years IS NULL THEN NULL ELSE json(printf(\'%!.17g\', NEW.patient_age_years)) END, \'sex\', NEW.patient_sex))) ON CONFLICT (case_id) DO UPDATE SET full_json = excluded.full_json, summary_json = excluded.summary_json; END',
]
SQLITE_REFRESH = [
    'INSERT INTO case_listing (case_id, full_json, summary_json) SELECT "case".id, json_object(\'id\', "case".id, \'created_at\', CASE WHEN substr("case".created_at, 21) = \'000000\' THEN substr("case".created_at, 1, 10) || \'T\' || substr("case".created_at, 12, 8) || \'Z\' ELSE substr("case".created_at, 1, 10) || \'T\' || substr("case".created_at, 12) || \'Z\' END, \'updated_at\', CASE WHEN substr("case".updated_at, 21) = \'000000\' THEN substr("case".updated_at, 1, 10) || \'T\' || substr("case".updated_at, 12, 8) || \'Z\' ELSE substr("case".updated_at, 1, 10) || \'T\' || substr("case".updated_at, 12) || \'Z\' END, \'organization_id\', "case".organization_id, \'specialty\', "case".specialty, \'urgency\', "case".urgency, \'question\', "case".question, \'summary\', "case".summary, \'languages\', json("case".languages), \'interpreter_needed\', CASE WHEN "case".interpreter_needed THEN json(\'true\') ELSE json(\'false\') END, \'status\', "case".status, \'respond_by\', CASE WHEN substr("case".respond_by, 21) = \'000000\' THEN substr("case".respond_by, 1, 10) || \'T\' || substr("case".respond_by, 12, 8) || \'Z\' ELSE substr("case".respond_by, 1, 10) || \'T\' || substr("case".respond_by, 12) || \'Z\' END, \'overdue\', CASE WHEN "case".overdue THEN json(\'true\') ELSE json(\'false\') END, \'view\', \'full\', \'patient\', json_object(\'reference\', "case".patient_reference, \'age_years\', CASE WHEN "case".patient_age_years IS NULL THEN NULL ELSE json(printf(\'%!.17g\', "case".patient_age_years)) END, \'sex\', "case".patient_sex), \'consent\', json_object(\'obtained\', json(\'true\'), \'method\', "case".consent_method), \'follow_up_of\', "case".follow_up_of_id, \'submitted_by_id\', "case".submitted_by_id, \'submitted_by_client_id\', "case".submitted_by_client_id, \'assigned_specialist_id\', "case".assigned_specialist_id, \'assigned_at\', CASE WHEN substr("case".assigned_at, 21) = \'000000\' THEN substr("case".assigned_at, 1, 10) || \'T\' || substr("case".assigned_at, 12, 8) || \'Z\' ELSE substr("case".assigned_at, 1, 10) || \'T\' || substr("case".assigned_at, 12) || \'Z\' END, \'answered_at\', CASE WHEN substr("case".answered_at, 21) = \'000000\' THEN substr("case".answered_at, 1, 10) || \'T\' || substr("case".answered_at, 12, 8) || \'Z\' ELSE substr("case".answered_at, 1, 10) || \'T\' || substr("case".answered_at, 12) || \'Z\' END, \'closed_at\', CASE WHEN substr("case".closed_at, 21) = \'000000\' THEN substr("case".closed_at, 1, 10) || \'T\' || substr("case".closed_at, 12, 8) || \'Z\' ELSE substr("case".closed_at, 1, 10) || \'T\' || substr("case".closed_at, 12) || \'Z\' END, \'cancelled_at\', CASE WHEN substr("case".cancelled_at, 21) = \'000000\' THEN substr("case".cancelled_at, 1, 10) || \'T\' || substr("case".cancelled_at, 12, 8) || \'Z\' ELSE substr("case".cancelled_at, 1, 10) || \'T\' || substr("case".cancelled_at, 12) || \'Z\' END, \'outcome\', "case".outcome, \'cancel_reason\', "case".cancel_reason, \'version\', "case".version), json_object(\'id\', "case".id, \'created_at\', CASE WHEN substr("case".created_at, 21) = \'000000\' THEN substr("case".created_at, 1, 10) || \'T\' || substr("case".created_at, 12, 8) || \'Z\' ELSE substr("case".created_at, 1, 10) || \'T\' || substr("case".created_at, 12) || \'Z\' END, \'updated_at\', CASE WHEN substr("case".updated_at, 21) = \'000000\' THEN substr("case".updated_at, 1, 10) || \'T\' || substr("case".updated_at, 12, 8) || \'Z\' ELSE substr("case".updated_at, 1, 10) || \'T\' || substr("case".updated_at, 12) || \'Z\' END, \'organization_id\', "case".organization_id, \'specialty\', "case".specialty, \'urgency\', "case".urgency, \'question\', "case".question, \'summary\', "case".summary, \'languages\', json("case".languages), \'interpreter_needed\', CASE WHEN "case".interpreter_needed THEN json(\'true\') ELSE json(\'false\') END, \'status\', "case".status, \'respond_by\', CASE WHEN substr("case".respond_by, 21) = \'000000\' THEN substr("case".respond_by, 1, 10) || \'T\' || substr("case".respond_by, 12, 8) || \'Z\' ELSE substr("case".respond_by, 1, 10) || \'T\' || substr("case".respond_by, 12) || \'Z\' END, \'overdue\', CASE WHEN "case".overdue THEN json(\'true\') ELSE json(\'false\') END, \'view\', \'summary\', \'patient\', json_object(\'age_years\', CASE WHEN "case".patient_age_years IS NULL THEN NULL ELSE json(printf(\'%!.17g\', "case".patient_age_years)) END, \'sex\', "case".patient_sex)) FROM "case" WHERE true ON CONFLICT (case_id) DO UPDATE SET full_json = excluded.full_json, summary_json = excluded.summary_json',
]
PG_TRIGGERS = [
    'CREATE OR REPLACE FUNCTION case_listing_write() RETURNS trigger LANGUAGE plpgsql SET extra_float_digits = 1 AS $body$\nBEGIN\n  INSERT INTO case_listing (case_id, full_json, summary_json) VALUES (NEW.id, CAST(json_build_object(\'id\', NEW.id, \'created_at\', CASE WHEN date_trunc(\'second\', NEW.created_at) = NEW.created_at THEN to_char((NEW.created_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char((NEW.created_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'updated_at\', CASE WHEN date_trunc(\'second\', NEW.updated_at) = NEW.updated_at THEN to_char((NEW.updated_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char((NEW.updated_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'organization_id\', NEW.organization_id, \'specialty\', NEW.specialty, \'urgency\', NEW.urgency, \'question\', NEW.question, \'summary\', NEW.summary, \'languages\', NEW.languages, \'interpreter_needed\', NEW.interpreter_needed, \'status\', NEW.status, \'respond_by\', CASE WHEN date_trunc(\'second\', NEW.respond_by) = NEW.respond_by THEN to_char((NEW.respond_by AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char((NEW.respond_by AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'overdue\', NEW.overdue, \'view\', \'full\'::text, \'patient\', json_build_object(\'reference\', NEW.patient_reference, \'age_years\', NEW.patient_age_years, \'sex\', NEW.patient_sex), \'consent\', json_build_object(\'obtained\', true, \'method\', NEW.consent_method), \'follow_up_of\', NEW.follow_up_of_id, \'submitted_by_id\', NEW.submitted_by_id, \'submitted_by_client_id\', NEW.submitted_by_client_id, \'assigned_specialist_id\', NEW.assigned_specialist_id, \'assigned_at\', CASE WHEN date_trunc(\'second\', NEW.assigned_at) = NEW.assigned_at THEN to_char((NEW.assigned_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char((NEW.assigned_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'answered_at\', CASE WHEN date_trunc(\'second\', NEW.answered_at) = NEW.answered_at THEN to_char((NEW.answered_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char((NEW.answered_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'closed_at\', CASE WHEN date_trunc(\'second\', NEW.closed_at) = NEW.closed_at THEN to_char((NEW.closed_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char((NEW.closed_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'cancelled_at\', CASE WHEN date_trunc(\'second\', NEW.cancelled_at) = NEW.cancelled_at THEN to_char((NEW.cancelled_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char((NEW.cancelled_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'outcome\', NEW.outcome, \'cancel_reason\', NEW.cancel_reason, \'version\', NEW.version) AS TEXT), CAST(json_build_object(\'id\', NEW.id, \'created_at\', CASE WHEN date_trunc(\'second\', NEW.created_at) = NEW.created_at THEN to_char((NEW.created_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char((NEW.created_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'updated_at\', CASE WHEN date_trunc(\'second\', NEW.updated_at) = NEW.updated_at THEN to_char((NEW.updated_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char((NEW.updated_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'organization_id\', NEW.organization_id, \'specialty\', NEW.specialty, \'urgency\', NEW.urgency, \'question\', NEW.question, \'summary\', NEW.summary, \'languages\', NEW.languages, \'interpreter_needed\', NEW.interpreter_needed, \'status\', NEW.status, \'respond_by\', CASE WHEN date_trunc(\'second\', NEW.respond_by) = NEW.respond_by THEN to_char((NEW.respond_by AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char((NEW.respond_by AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'overdue\', NEW.overdue, \'view\', \'summary\'::text, \'patient\', json_build_object(\'age_years\', NEW.patient_age_years, \'sex\', NEW.patient_sex)) AS TEXT)) ON CONFLICT (case_id) DO UPDATE SET full_json = excluded.full_json, summary_json = excluded.summary_json;\n  RETURN NULL;\nEND\n$body$',
    'CREATE TRIGGER case_listing_write AFTER INSERT OR UPDATE ON "case" FOR EACH ROW EXECUTE FUNCTION case_listing_write()',
]
PG_REFRESH = [
    'SET LOCAL extra_float_digits = 1',
    'INSERT INTO case_listing (case_id, full_json, summary_json) SELECT "case".id, CAST(json_build_object(\'id\', "case".id, \'created_at\', CASE WHEN date_trunc(\'second\', "case".created_at) = "case".created_at THEN to_char(("case".created_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char(("case".created_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'updated_at\', CASE WHEN date_trunc(\'second\', "case".updated_at) = "case".updated_at THEN to_char(("case".updated_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char(("case".updated_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'organization_id\', "case".organization_id, \'specialty\', "case".specialty, \'urgency\', "case".urgency, \'question\', "case".question, \'summary\', "case".summary, \'languages\', "case".languages, \'interpreter_needed\', "case".interpreter_needed, \'status\', "case".status, \'respond_by\', CASE WHEN date_trunc(\'second\', "case".respond_by) = "case".respond_by THEN to_char(("case".respond_by AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char(("case".respond_by AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'overdue\', "case".overdue, \'view\', \'full\'::text, \'patient\', json_build_object(\'reference\', "case".patient_reference, \'age_years\', "case".patient_age_years, \'sex\', "case".patient_sex), \'consent\', json_build_object(\'obtained\', true, \'method\', "case".consent_method), \'follow_up_of\', "case".follow_up_of_id, \'submitted_by_id\', "case".submitted_by_id, \'submitted_by_client_id\', "case".submitted_by_client_id, \'assigned_specialist_id\', "case".assigned_specialist_id, \'assigned_at\', CASE WHEN date_trunc(\'second\', "case".assigned_at) = "case".assigned_at THEN to_char(("case".assigned_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char(("case".assigned_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'answered_at\', CASE WHEN date_trunc(\'second\', "case".answered_at) = "case".answered_at THEN to_char(("case".answered_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char(("case".answered_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'closed_at\', CASE WHEN date_trunc(\'second\', "case".closed_at) = "case".closed_at THEN to_char(("case".closed_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char(("case".closed_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'cancelled_at\', CASE WHEN date_trunc(\'second\', "case".cancelled_at) = "case".cancelled_at THEN to_char(("case".cancelled_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char(("case".cancelled_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'outcome\', "case".outcome, \'cancel_reason\', "case".cancel_reason, \'version\', "case".version) AS TEXT), CAST(json_build_object(\'id\', "case".id, \'created_at\', CASE WHEN date_trunc(\'second\', "case".created_at) = "case".created_at THEN to_char(("case".created_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char(("case".created_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'updated_at\', CASE WHEN date_trunc(\'second\', "case".updated_at) = "case".updated_at THEN to_char(("case".updated_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char(("case".updated_at AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'organization_id\', "case".organization_id, \'specialty\', "case".specialty, \'urgency\', "case".urgency, \'question\', "case".question, \'summary\', "case".summary, \'languages\', "case".languages, \'interpreter_needed\', "case".interpreter_needed, \'status\', "case".status, \'respond_by\', CASE WHEN date_trunc(\'second\', "case".respond_by) = "case".respond_by THEN to_char(("case".respond_by AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') ELSE to_char(("case".respond_by AT TIME ZONE \'UTC\'), \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') END, \'overdue\', "case".overdue, \'view\', \'summary\'::text, \'patient\', json_build_object(\'age_years\', "case".patient_age_years, \'sex\', "case".patient_sex)) AS TEXT) FROM "case" WHERE true ON CONFLICT (case_id) DO UPDATE SET full_json = excluded.full_json, summary_json = excluded.summary_json',
]
SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS case_listing_on_insert',
    'DROP TRIGGER IF EXISTS case_listing_on_update',
]
PG_DROP = [
    'DROP TRIGGER IF EXISTS case_listing_write ON "case"',
    'DROP FUNCTION IF EXISTS case_listing_write()',
]
# fmt: on


def _install(triggers: list[str], refresh: list[str], drop: list[str]) -> None:
    for statement in drop + triggers + refresh:
        op.execute(statement)


def _previous() -> Any:
    """0011's frozen triggers, to put back on downgrade."""
    path = Path(__file__).with_name("0011_case_listing_kept_by_triggers.py")
    spec = importlib.util.spec_from_file_location("_m0011", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('account_token',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('salt', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('organization_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('created_by_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_account_token_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_token_token_hash'))
    )
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_token_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_token_user_id'), ['user_id'], unique=False)

    op.create_table('notification',
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('read_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_dedupe_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_notification_user_id_id', ['user_id', 'id'], unique=False)

    op.create_table('notification_setting',
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('quiet_start', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('quiet_end', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('phone_verified_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('phone_code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('phone_code_expires_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('phone_code_attempts', sa.Integer(), nullable=False),
    sa.Column('digest_next_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_setting_user_id_user')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_setting'))
    )
    with op.batch_alter_table('notification_setting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_setting_digest_next_at'), ['digest_next_at'], unique=False)

    op.create_table('push_subscription',
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('endpoint', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('endpoint_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('p256dh', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('auth', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_push_subscription_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscription')),
    sa.UniqueConstraint('endpoint_hash', name=op.f('uq_push_subscription_endpoint_hash'))
    )
    with op.batch_alter_table('push_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscription_user_id'), ['user_id'], unique=False)

    op.create_table('case_escalation',
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('widen_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tell_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('widened_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('widened_offers', sa.Integer(), nullable=False),
    sa.Column('coordinators_told_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_escalation_case_id_case')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_escalation'))
    )
    with op.batch_alter_table('case_escalation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_escalation_next_at'), ['next_at'], unique=False)

    op.create_table('message_gather',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('first_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_seq', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('open', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_message_gather_case_id_case')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_message_gather_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_gather')),
    sa.UniqueConstraint('user_id', 'case_id', 'open', name='uq_message_gather_open')
    )
    with op.batch_alter_table('message_gather', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_gather_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_message_gather_open_due', ['open', 'due_at'], unique=False)

    op.create_table('notification_delivery',
    sa.Column('created_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('notification_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lease_until', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', app.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'], name=op.f('fk_notification_delivery_notification_id_notification')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notification_delivery_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_delivery'))
    )
    with op.batch_alter_table('notification_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_notification_delivery_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notification_delivery_lease', ['status', 'lease_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_delivery_notification_id'), ['notification_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_delivery_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overdue', sa.Boolean(), server_default=sa.false(), nullable=False))

    # ### end Alembic commands ###
    # The listed JSON carries `overdue` from now on.
    if op.get_bind().dialect.name == 'sqlite':
        _install(SQLITE_TRIGGERS, SQLITE_REFRESH, SQLITE_DROP)
    else:
        _install(PG_TRIGGERS, PG_REFRESH, PG_DROP)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for statement in SQLITE_DROP if sqlite else PG_DROP:
        op.execute(statement)
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_column('overdue')
    old = _previous()
    if sqlite:
        _install(old.SQLITE_TRIGGERS, old.SQLITE_REFRESH, [])
    else:
        _install(old.PG_TRIGGERS, old.PG_REFRESH, [])

    with op.batch_alter_table('notification_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_delivery_user_id'))
        batch_op.drop_index(batch_op.f('ix_notification_delivery_notification_id'))
        batch_op.drop_index('ix_notification_delivery_lease')
        batch_op.drop_index('ix_notification_delivery_due')

    op.drop_table('notification_delivery')
    with op.batch_alter_table('message_gather', schema=None) as batch_op:
        batch_op.drop_index('ix_message_gather_open_due')
        batch_op.drop_index(batch_op.f('ix_message_gather_case_id'))

    op.drop_table('message_gather')
    with op.batch_alter_table('case_escalation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_escalation_next_at'))

    op.drop_table('case_escalation')
    with op.batch_alter_table('push_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscription_user_id'))

    op.drop_table('push_subscription')
    with op.batch_alter_table('notification_setting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_setting_digest_next_at'))

    op.drop_table('notification_setting')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_id_id')
        batch_op.drop_index(batch_op.f('ix_notification_case_id'))

    op.drop_table('notification')
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_token_user_id'))
        batch_op.drop_index(batch_op.f('ix_account_token_email'))

    op.drop_table('account_token')
    # ### end Alembic commands ###
