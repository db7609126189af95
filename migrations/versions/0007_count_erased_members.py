"""members who erased their data stay in the running counts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 18:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


# DELETE MY DATA sets a member's status to 'deleted'; the county, kinds of work and joining month stay so
# that officers' numbers do not change. 0005 counted 'active' members only, so an erasure took the member
# out of STATS. From here on a member who joined and then erased their data still counts, flagged `erased`
# (and never `opted_out`: each member is one of active, opted out or erased); someone who erased their
# data before finishing sign-up (no joining date) never counted and still does not.
COUNTED = "m.status = 'active' OR (m.status = 'deleted' AND m.joined_at IS NOT NULL)"
ERASED = "m.status = 'deleted'"
OPTED_OUT = "m.opted_out_at IS NOT NULL AND m.status = 'active'"
WATCHED = "?status, ?county, ?gender, ?community, ?opted_out_at IS NULL, ?joined_at IS NULL"
WORK_FOLLOWED = "'active', 'deleted'"

# As 0005 made them, for the downgrade.
COUNTED_0005 = "m.status = 'active'"
OPTED_OUT_0005 = "m.opted_out_at IS NOT NULL"
WATCHED_0005 = "?status, ?county, ?gender, ?community, ?opted_out_at IS NULL"
WORK_FOLLOWED_0005 = "'active'"


def tally_add(counted: str, erased: str | None, opted_out: str) -> str:
    """member_tally_add: one +1/-1 row for a member, when the member counts."""
    columns = "county, gender, community, opted_out, work, members" + (", erased" if erased else "")
    values = (f"coalesce(m.county, ''), coalesce(m.gender, ''), coalesce(m.community, ''), {opted_out}, "
              f"p_work, p_delta" + (f", {erased}" if erased else ""))
    return f"""
    CREATE OR REPLACE FUNCTION member_tally_add(m members, p_work text, p_delta integer)
    RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF {counted} THEN
        INSERT INTO member_tallies ({columns}) VALUES ({values});
      END IF;
    END $$
    """


def members_tally(watched: str) -> list[str]:
    """members_tally and its trigger: an update moves the member's count when one of `watched` changes."""
    old = watched.replace("?", "OLD.")
    new = watched.replace("?", "NEW.")
    columns = ", ".join(column.split(" ")[0] for column in watched.replace("?", "").split(", "))
    return [
        f"""
        CREATE OR REPLACE FUNCTION members_tally() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
          v_work text;
        BEGIN
          IF TG_OP = 'INSERT' THEN
            PERFORM member_tally_add(NEW, member_work_list(NEW.id), 1);
            RETURN NEW;
          ELSIF TG_OP = 'DELETE' THEN
            PERFORM member_tally_add(OLD, member_work_list(OLD.id), -1);
            RETURN OLD;
          END IF;
          IF ({old}) IS DISTINCT FROM ({new}) THEN
            v_work := member_work_list(NEW.id);
            PERFORM member_tally_add(OLD, v_work, -1);
            PERFORM member_tally_add(NEW, v_work, 1);
          END IF;
          RETURN NEW;
        END $$
        """,
        "DROP TRIGGER members_tally_change ON members",
        f"""
        CREATE TRIGGER members_tally_change AFTER INSERT OR UPDATE OF {columns}
        ON members FOR EACH ROW EXECUTE FUNCTION members_tally()
        """,
    ]


def work_tally(statuses: str) -> str:
    """member_work_tally: a change of kinds of work moves the count of a member of these statuses."""
    return f"""
    CREATE OR REPLACE FUNCTION member_work_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      v_member members;
      v_id integer;
      v_added text;
      v_removed text;
      v_now text;
      v_before text;
    BEGIN
      IF TG_OP <> 'DELETE' THEN
        v_added := NEW.kind;
        v_id := NEW.member_id;
      END IF;
      IF TG_OP <> 'INSERT' THEN
        v_removed := OLD.kind;
        v_id := OLD.member_id;
      END IF;
      SELECT * INTO v_member FROM members WHERE members.id = v_id;
      IF NOT FOUND OR v_member.status NOT IN ({statuses}) THEN
        RETURN NULL;
      END IF;
      v_now := member_work_list(v_id);
      SELECT coalesce(string_agg(k, ',' ORDER BY k), '') INTO v_before FROM (
        SELECT kind AS k FROM member_work WHERE member_id = v_id
        EXCEPT SELECT v_added WHERE v_added IS NOT NULL
        UNION SELECT v_removed WHERE v_removed IS NOT NULL
      ) AS kinds;
      IF v_before IS DISTINCT FROM v_now THEN
        PERFORM member_tally_add(v_member, v_before, -1);
        PERFORM member_tally_add(v_member, v_now, 1);
      END IF;
      RETURN NULL;
    END $$
    """


def recount(counted: str, erased: str | None, opted_out: str) -> list[str]:
    """Count the running totals again from the members, with no member changing meanwhile."""
    columns = "county, gender, community, opted_out, work, members" + (", erased" if erased else "")
    extra = f", {erased}" if erased else ""
    group = "1, 2, 3, 4, 5" + (", 7" if erased else "")
    return [
        "LOCK TABLE members, member_work IN SHARE MODE",
        "DELETE FROM member_tallies",
        f"""
        INSERT INTO member_tallies ({columns})
        SELECT coalesce(m.county, ''), coalesce(m.gender, ''), coalesce(m.community, ''), {opted_out},
               member_work_list(m.id), count(*){extra}
        FROM members AS m WHERE {counted} GROUP BY {group}
        """,
    ]


def upgrade():
    with op.batch_alter_table('member_tallies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased', sa.Boolean(), server_default=sa.false(), nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        for statement in [tally_add(COUNTED, ERASED, OPTED_OUT), *members_tally(WATCHED), work_tally(WORK_FOLLOWED),
                          *recount(COUNTED, ERASED, OPTED_OUT)]:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for statement in [tally_add(COUNTED_0005, None, OPTED_OUT_0005), *members_tally(WATCHED_0005),
                          work_tally(WORK_FOLLOWED_0005), *recount(COUNTED_0005, None, OPTED_OUT_0005)]:
            op.execute(statement)
    with op.batch_alter_table('member_tallies', schema=None) as batch_op:
        batch_op.drop_column('erased')
