"""Projects: the spaces datasets, jobs and models live in, and who belongs to each."""

from sqlmodel import Session, col, select

from services import audit
from services.access import Action, Actor, can_see, require, visible_projects
from services.errors import InvalidInput, NotFound
from services.models import Membership, Project, ProjectPublic, User


def list_projects(*, session: Session, actor: Actor) -> list[ProjectPublic]:
    """The projects `actor` may see (admins: all), by name."""
    require(session, actor, Action.view)
    visible = visible_projects(session, actor)
    query = select(Project).order_by(col(Project.name))
    if visible is not None:
        query = query.where(col(Project.id).in_(visible))
    return [ProjectPublic.model_validate(p.model_dump()) for p in session.exec(query)]


def get_project(*, session: Session, actor: Actor, project_id: int) -> ProjectPublic:
    """One project, if `actor` may see it (else it does not exist, for them)."""
    require(session, actor, Action.view)
    project = session.get(Project, project_id)
    if project is None or not can_see(session, actor, project_id):
        raise NotFound(f"There is no project with id {project_id} that you can see.")
    return ProjectPublic.model_validate(project.model_dump())


def project_by_name(*, session: Session, actor: Actor, name: str) -> ProjectPublic:
    """A project the actor can see, by its name."""
    require(session, actor, Action.view)
    project = session.exec(select(Project).where(Project.name == name.strip())).first()
    if project is None or project.id is None or not can_see(session, actor, project.id):
        raise NotFound(f"There is no project named '{name}' that you can see.")
    return ProjectPublic.model_validate(project.model_dump())


def create_project(
    *, session: Session, actor: Actor, name: str, description: str = ""
) -> ProjectPublic:
    admin = require(session, actor, Action.manage_projects)
    clean = name.strip()
    if not 1 <= len(clean) <= 100:
        raise InvalidInput("A project name has 1 to 100 characters.")
    if session.exec(select(Project).where(Project.name == clean)).first():
        raise InvalidInput(f"There is already a project named '{clean}'.")
    project = Project(name=clean, description=description)
    session.add(project)
    audit.record(session, actor=admin.username, action="project.create", subject=clean)
    session.commit()
    return ProjectPublic.model_validate(project.model_dump())


def set_member(
    *, session: Session, actor: Actor, project_id: int, user_id: int, member: bool
) -> None:
    """Adds a user to a project or removes them from it."""
    admin = require(session, actor, Action.manage_projects)
    project, user = session.get(Project, project_id), session.get(User, user_id)
    if project is None or user is None:
        raise NotFound("There is no such project or user.")
    found = session.exec(
        select(Membership).where(Membership.project_id == project_id, Membership.user_id == user_id)
    ).first()
    if member and found is None:
        session.add(Membership(project_id=project_id, user_id=user_id))
    elif not member and found is not None:
        session.delete(found)
    else:
        return
    audit.record(
        session,
        actor=admin.username,
        action="project.member" if member else "project.leave",
        subject=f"{user.username} in {project.name}",
    )
    session.commit()


def member_ids(*, session: Session, actor: Actor, project_id: int) -> list[int]:
    require(session, actor, Action.manage_projects)
    query = select(Membership.user_id).where(Membership.project_id == project_id)
    return list(session.exec(query))
