"""Row-level scope: a rep sees their own customers, a manager their team's, an admin all."""

from sales_grpc.domain.access import Principal, Role, Scope, in_scope, scope_of


def test_a_rep_sees_only_the_records_they_own_in_their_own_team():
    scope = scope_of(Principal("rep-1", Role.SALES_REP, team_id="team-a"))
    assert scope == Scope(owner_id="rep-1", team_id="team-a")
    assert in_scope(scope, "rep-1", "team-a")
    assert not in_scope(scope, "rep-1", "team-b")  # handed to them by another team's manager
    assert not in_scope(scope, "rep-2", "team-a")


def test_a_manager_sees_every_customer_of_their_team_and_no_other():
    scope = scope_of(Principal("manager-a", Role.SALES_MANAGER, team_id="team-a"))
    assert scope == Scope(team_id="team-a")
    assert in_scope(scope, "rep-1", "team-a")
    assert not in_scope(scope, "rep-1", "team-b")


def test_a_manager_without_a_team_sees_only_their_own_customers():
    scope = scope_of(Principal("manager-x", Role.SALES_MANAGER, team_id=""))
    assert not scope.is_unrestricted
    assert not in_scope(scope, "rep-1", "")
    assert in_scope(scope, "manager-x", "")


def test_an_admin_sees_everything():
    scope = scope_of(Principal("admin-1", Role.ADMIN))
    assert scope.is_unrestricted
    assert in_scope(scope, "anyone", "any-team")


def test_permissions_come_only_from_the_token():
    principal = Principal("rep-1", Role.SALES_REP, frozenset({"sales:read"}))
    assert principal.can("sales:read")
    assert not principal.can("sales:delete")
    assert not principal.is_privileged
    assert Principal("m", Role.SALES_MANAGER).is_privileged
