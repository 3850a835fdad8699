"""MCP Task Orchestrator 1.8 with its specialists from modec: the scenario, run inside a venv
that has the real ``mcp-task-orchestrator`` (``tests/integration/test_task_orchestrator.py``).

``python orchestrator_scenario.py PROJECT ROUTED_PROJECT OUT.json DEFAULTS_PROJECT
DEFAULT_ROLES.yaml``: everything goes through the
orchestrator's own code (its ``orchestrator_initialize_session`` handler, its role files, its
``TaskOrchestrator``, ``TaskBreakdown``, ``SubTask`` and database rows) and modec's shipped
adapter, nothing else converts anything; what happened is written to ``OUT.json`` for the
test to judge (the orchestrator logs to stdout).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

#: Subtasks as the host's LLM sends them to orchestrator_plan_task; two name a specialist.
SUBTASKS: list[dict[str, Any]] = [
    {"title": "Harden auth", "description": "Audit the login flow for security vulnerabilities"},
    {"title": "Speed up", "description": "Find the bottleneck in the dashboard query"},
    {"title": "Cover it", "description": "Add unit tests for the password reset"},
    {"title": "Explain it", "description": "Write the readme section on signing in"},
    {"title": "Build it", "description": "Build the login form"},
    {
        "title": "Review auth",
        "description": "Security review of the session cookie code",
        "specialist_type": "reviewer",
    },
    {
        "title": "Design it",
        "description": "Write the design document for single sign-on",
        "specialist_type": "architect",
        "dependencies": [],
    },
]


async def scenario(project: Path) -> dict[str, Any]:
    import yaml
    from mcp_task_orchestrator import server
    from mcp_task_orchestrator.db.models import SubTaskModel
    from mcp_task_orchestrator.orchestrator import (
        SpecialistManager,
        StateManager,
        TaskOrchestrator,
    )
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from modec import ModeRuntime
    from modec.integrations.task_orchestrator import (
        ModecSpecialists,
        UnassignableSpecialistError,
        session_id_of,
    )

    out: dict[str, Any] = {}
    roles = project / ".task_orchestrator" / "roles"
    # The session, initialised by the orchestrator's own MCP handler: it writes its role file.
    [answer] = await server.handle_initialize_session({"working_directory": str(project)})
    initialized = json.loads(answer.text)
    out["initialized"] = initialized
    out["roles_after_initialize"] = sorted(p.name for p in roles.iterdir())
    out["host_roles"] = {p.name: yaml.safe_load(p.read_text()) for p in roles.iterdir()}

    state = StateManager(base_dir=str(project))
    host_manager = SpecialistManager(project_dir=str(project))
    # modec's tables go into the orchestrator's own database, beside its tables, prefixed.
    engine = create_engine(f"sqlite:///{state.db_path}")
    with ModeRuntime(project, engine=engine, table_prefix="modec_") as runtime:
        session_id = session_id_of(answer.text)
        specialists = ModecSpecialists(runtime, session_id, host=host_manager)
        orchestrator = TaskOrchestrator(state, specialists, project_dir=str(project))
        context = specialists.context()
        out["session_id"] = session_id
        out["mode_file"] = context.mode_file

        # Planning: without modec the host refuses subtasks that name no specialist.
        try:
            await orchestrator.plan_task("Ship sign-in", "moderate", json.dumps(SUBTASKS))
        except ValueError as exc:
            out["unfilled_plan_error"] = str(exc)
        filled = specialists.fill_subtasks(json.dumps(SUBTASKS), complexity="moderate")
        breakdown = await orchestrator.plan_task("Ship sign-in", "moderate", filled)

        # Execution: the host's own get_specialist_context asks the adapter for the prompt.
        out["subtasks"] = []
        for subtask, sent in zip(breakdown.subtasks, SUBTASKS, strict=True):
            prompt = await orchestrator.get_specialist_context(subtask.task_id)
            assignment = specialists.assign(subtask)
            out["subtasks"].append(
                {
                    "task_id": subtask.task_id,
                    "description": subtask.description,
                    "sent_specialist": sent.get("specialist_type"),
                    "host_specialist": subtask.specialist_type.value,
                    "specialist": assignment.specialist,
                    "chosen_by": assignment.chosen_by,
                    "task_type": assignment.decision.task_type,
                    "mode_specialist": assignment.decision.specialist,
                    "prompt": prompt,
                    "assignment_prompt": assignment.prompt,
                }
            )

        # The host's database rows of those subtasks route the same way.
        with Session(engine) as db:
            rows = db.scalars(
                select(SubTaskModel).where(SubTaskModel.parent_task_id == breakdown.parent_task_id)
            ).all()
            out["rows"] = {
                row.task_id: {
                    "specialist": specialists.assign(row).specialist,
                    "task_type": specialists.route(row).task_type,
                }
                for row in rows
            }

        # The parent task (its TaskBreakdown model, with a complexity level of its own).
        parent = specialists.route(breakdown)
        out["breakdown"] = {"task_type": parent.task_type, "complexity": parent.complexity}

        # The host's own status, with the session's mode_info added.
        status = await orchestrator.get_status()
        out["status"] = specialists.add_mode_info(status)

        # A specialist the host's SpecialistType enum does not have is refused, not stored.
        strict = ModecSpecialists(
            runtime, session_id, specialist_types={"architect", "reviewer"}, host=host_manager
        )
        try:
            strict.fill_subtasks(json.dumps(SUBTASKS[:1]))
        except UnassignableSpecialistError as exc:
            out["unassignable"] = {"message": str(exc), "suggestion": exc.suggestion}

    with engine.connect() as db:
        out["tables"] = sorted(
            db.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars()
        )
    engine.dispose()
    out["roles_at_end"] = sorted(p.name for p in roles.iterdir())
    out["task_orchestrator_dir"] = sorted(p.name for p in roles.parent.iterdir())
    return out


#: The routing rules a project adds to the orchestrator's own role file.
RULES: dict[str, Any] = {
    "security_tasks": {"required_specialist": "architect", "secondary_review": "debugger"},
    "performance_tasks": {"required_specialist": "debugger"},
    "documentation_tasks": {"required_specialist": "documenter"},
}


async def routed_scenario(project: Path, role_file: str, content: str) -> dict[str, Any]:
    """A project whose own role file ``role_file`` (``content``) picks the specialists: the
    mode's choice reaches the orchestrator's subtasks and prompts."""
    from mcp_task_orchestrator import server
    from mcp_task_orchestrator.orchestrator import (
        SpecialistManager,
        StateManager,
        TaskOrchestrator,
    )

    from modec import ModeRuntime
    from modec.integrations.task_orchestrator import ModecSpecialists, session_id_of

    roles = project / ".task_orchestrator" / "roles"
    roles.mkdir(parents=True)
    (roles / role_file).write_text(content)
    [answer] = await server.handle_initialize_session({"working_directory": str(project)})
    state = StateManager(
        db_path=str(project / ".task_orchestrator" / "task_orchestrator.db"),
        base_dir=str(project),
    )
    out: dict[str, Any] = {"subtasks": []}
    with ModeRuntime(project) as runtime:
        specialists = ModecSpecialists(
            runtime, session_id_of(answer.text), host=SpecialistManager(project_dir=str(project))
        )
        orchestrator = TaskOrchestrator(state, specialists, project_dir=str(project))
        out["mode_file"] = specialists.context().mode_file
        filled = specialists.fill_subtasks(json.dumps(SUBTASKS), complexity="complex")
        breakdown = await orchestrator.plan_task("Ship sign-in", "complex", filled)
        for subtask in breakdown.subtasks:
            assignment = specialists.assign(subtask)
            out["subtasks"].append(
                {
                    "description": subtask.description,
                    "host_specialist": subtask.specialist_type.value,
                    "task_type": assignment.decision.task_type,
                    "secondary_review": list(assignment.decision.secondary_review),
                    "prompt": await orchestrator.get_specialist_context(subtask.task_id),
                }
            )
    out["roles_at_end"] = sorted(p.name for p in roles.iterdir())
    return out


def main() -> None:
    import yaml

    project, routed, target = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    repo_defaults, defaults_file = Path(sys.argv[4]), Path(sys.argv[5])
    os.chdir(project)  # the orchestrator's StateManager keeps its database under the cwd
    result = asyncio.run(scenario(project))
    with_rules = {**result["host_roles"]["project_roles.yaml"], "task_routing_rules": RULES}
    result["routed"] = asyncio.run(
        routed_scenario(routed, "project_roles.yaml", yaml.safe_dump(with_rules, sort_keys=False))
    )
    # The orchestrator repository's own config/default_roles.yaml, as a project's role file.
    result["repo_defaults"] = asyncio.run(
        routed_scenario(repo_defaults, "default_roles.yaml", defaults_file.read_text())
    )
    target.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
