"""The composition: what wires the areas together (worker, scheduler service, replay, demo,
the root CLI, doctor). It may import every area; no area imports it."""
