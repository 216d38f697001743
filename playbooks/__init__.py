"""Playbooks (应对剧本): checklists per crisis category and stage, the response draft checker, templates."""

from playbooks.loader import get_playbook, load_all, validate_dir

__all__ = ["get_playbook", "load_all", "validate_dir"]
