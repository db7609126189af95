"""dashboard users, audit events, indexes for STATS

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


# Running member counts (see bot/models/stats.py): triggers append +1/-1 rows, never update a row, so
# concurrent sign-ups never wait on each other; the last statement counts the members already there.
TALLY_SQL = [
    """
    CREATE FUNCTION member_work_list(p_member integer) RETURNS text LANGUAGE sql STABLE AS $$
      SELECT coalesce(string_agg(kind, ',' ORDER BY kind), '') FROM member_work WHERE member_id = p_member
    $$
    """,
    """
    CREATE FUNCTION member_tally_add(m members, p_work text, p_delta integer) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF m.status = 'active' THEN
        INSERT INTO member_tallies (county, gender, community, opted_out, work, members)
        VALUES (coalesce(m.county, ''), coalesce(m.gender, ''), coalesce(m.community, ''),
                m.opted_out_at IS NOT NULL, p_work, p_delta);
      END IF;
    END $$
    """,
    """
    CREATE FUNCTION members_tally() RETURNS trigger LANGUAGE plpgsql AS $$
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
      IF (OLD.status, OLD.county, OLD.gender, OLD.community, OLD.opted_out_at IS NULL)
         IS DISTINCT FROM (NEW.status, NEW.county, NEW.gender, NEW.community, NEW.opted_out_at IS NULL) THEN
        v_work := member_work_list(NEW.id);
        PERFORM member_tally_add(OLD, v_work, -1);
        PERFORM member_tally_add(NEW, v_work, 1);
      END IF;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER members_tally_change AFTER INSERT OR UPDATE OF status, county, gender, community, opted_out_at
    ON members FOR EACH ROW EXECUTE FUNCTION members_tally()
    """,
    """
    CREATE TRIGGER members_tally_delete BEFORE DELETE ON members FOR EACH ROW EXECUTE FUNCTION members_tally()
    """,
    """
    CREATE FUNCTION member_work_tally() RETURNS trigger LANGUAGE plpgsql AS $$
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
      IF NOT FOUND OR v_member.status <> 'active' THEN
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
    """,
    """
    CREATE TRIGGER member_work_tally AFTER INSERT OR UPDATE OR DELETE ON member_work
    FOR EACH ROW EXECUTE FUNCTION member_work_tally()
    """,
    """
    INSERT INTO member_tallies (county, gender, community, opted_out, work, members)
    SELECT coalesce(m.county, ''), coalesce(m.gender, ''), coalesce(m.community, ''), m.opted_out_at IS NOT NULL,
           member_work_list(m.id), count(*)
    FROM members AS m WHERE m.status = 'active' GROUP BY 1, 2, 3, 4, 5
    """,
]


def upgrade():
    op.create_table('dashboard_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=True),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_users')),
    sa.UniqueConstraint('email', name=op.f('uq_dashboard_users_email'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=254), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_created_at'), ['created_at'], unique=False)
    op.create_table('member_tallies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('county', sa.String(length=40), nullable=False),
    sa.Column('gender', sa.String(length=20), nullable=False),
    sa.Column('community', sa.String(length=20), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('work', sa.String(length=400), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_tallies'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index('ix_members_county_joined_at', ['county', 'joined_at'], unique=False)
        batch_op.create_index('ix_members_joined_at_status_id', ['joined_at', 'status', 'id'], unique=False)
    with op.batch_alter_table('member_work', schema=None) as batch_op:
        batch_op.create_index('ix_member_work_kind_member_id', ['kind', 'member_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        for statement in TALLY_SQL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS member_work_tally ON member_work")
        op.execute("DROP TRIGGER IF EXISTS members_tally_delete ON members")
        op.execute("DROP TRIGGER IF EXISTS members_tally_change ON members")
        op.execute("DROP FUNCTION IF EXISTS member_work_tally(), members_tally(), member_tally_add(members, text, integer), member_work_list(integer)")
    with op.batch_alter_table('member_work', schema=None) as batch_op:
        batch_op.drop_index('ix_member_work_kind_member_id')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_joined_at_status_id')
        batch_op.drop_index('ix_members_county_joined_at')
    op.drop_table('member_tallies')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))
    op.drop_table('audit_events')
    op.drop_table('dashboard_users')
