"""Step Functions' execution limits in moto's ASL executor, as AWS enforces them.

"Step Functions service quotas" (Step Functions Developer Guide), quotas related to state
machine executions:
- "Maximum input or output size for a task, state, or execution: 256 KiB of data as a UTF-8
  encoded string". moto checks a state's output and a task's result, but measures JSON
  written with spaces after `:` and `,` and rejects 262,144 bytes itself; and it never
  checks a task's input after Parameters, which "Handling errors in Step Functions
  workflows" lists among the causes of States.DataLimitExceeded.
- "Maximum execution history size: 25,000 events in a single state machine execution
  history. If the execution history reaches this quota the execution will fail." moto has
  no limit. AWS's failure is the 25,000th event: ExecutionFailed, error States.Runtime,
  cause "The execution reached the maximum number of history events (25000)."; the
  execution fails whatever its Catch clauses say.

"Handling errors in Step Functions workflows": States.ALL "can't catch the
States.DataLimitExceeded terminal error or Runtime error types". moto's States.ALL catches
both. And moto cannot propagate a `States.*` error out of a Map iteration or a Parallel
branch (it builds a custom error name, which refuses the `States.` prefix, and the state
fails with States.Runtime "ValueError(...)"), so those errors are given their own names.

Each patch is installed by etl_local.moto_patches.install and undone with the others.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl_local.moto_patches import InstalledPatches

MAX_PAYLOAD_BYTES = 256 * 1024
MAX_HISTORY_EVENTS = 25_000
HISTORY_LIMIT_ERROR = "States.Runtime"
HISTORY_LIMIT_CAUSE = (
    f"The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS})."
)
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
# The errors States.ALL does not match.
_NOT_MATCHED_BY_STATES_ALL = frozenset({DATA_LIMIT_EXCEEDED, "States.Runtime"})
_TERMINAL_EVENTS = frozenset(
    {"ExecutionFailed", "ExecutionSucceeded", "ExecutionAborted", "ExecutionTimedOut"}
)
# Modules that imported moto's quota check by name.
_QUOTA_USERS = (
    "moto.stepfunctions.parser.asl.component.state.state",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda",
)


def payload_size(value: Any) -> int:
    """Bytes of a payload as Step Functions measures it: its JSON text in UTF-8."""
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    text = value if isinstance(value, str) else to_json_str(value, separators=(",", ":"))
    return len(text.encode("utf-8"))


def within_payload_quota(value: Any) -> bool:
    return payload_size(value) <= MAX_PAYLOAD_BYTES


def _event_details(key: str, details: Any) -> Any:
    """moto's EventDetails (a TypedDict whose every key is required to type checkers): a
    dict with one of its keys."""
    return {key: details}


def install(patches: InstalledPatches) -> None:
    _install_payload_quota(patches)
    _install_task_input_quota(patches)
    _install_terminal_errors(patches)
    _install_history_limit(patches)


# -- 256 KiB -----------------------------------------------------------------------------------


def _install_payload_quota(patches: InstalledPatches) -> None:
    import importlib

    for name in _QUOTA_USERS:
        patches.set_attribute(
            importlib.import_module(name), "is_within_size_quota", within_payload_quota
        )


def _data_limit_failure(env: Any, state_name: str, size: int) -> Exception:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )

    error_type = StatesErrorNameType.StatesStatesDataLimitExceeded
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error_type),
            event_type=HistoryEventType.TaskFailed,
            event_details=_event_details(
                "taskFailedEventDetails",
                TaskFailedEventDetails(
                    error=error_type.to_name(),
                    cause=(
                        f"The state/task '{state_name}' has an input of {size} bytes after "
                        f"Parameters, more than the {MAX_PAYLOAD_BYTES} bytes service limit."
                    ),
                ),
            ),
        )
    )


def _install_task_input_quota(patches: InstalledPatches) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import (
        StateTask,
    )

    original = StateTask._eval_parameters

    def eval_parameters(self: Any, env: Any) -> Any:
        parameters = original(self, env)
        size = payload_size(parameters)
        if size > MAX_PAYLOAD_BYTES:
            raise _data_limit_failure(env, self.name, size)
        return parameters

    patches.set_attribute(StateTask, "_eval_parameters", eval_parameters)


# -- terminal errors ---------------------------------------------------------------------------


def _install_terminal_errors(patches: InstalledPatches) -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name import (
        error_equals_decl,
        states_error_name,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
        CustomErrorName,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        iteration_worker,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

    declaration = error_equals_decl.ErrorEqualsDecl
    original_eval = declaration._eval_body

    def eval_body(self: Any, env: Any) -> None:
        error_name = env.stack[-1]
        if (
            declaration._STATE_ALL_ERROR in self.error_names
            and getattr(error_name, "error_name", None) in _NOT_MATCHED_BY_STATES_ALL
        ):
            env.stack.pop()
            env.stack.append(False)
            return
        original_eval(self, env)

    def propagated_error_name(error_name: str | None = None) -> Any:
        """The name a failed iteration or branch passes up: a States.* error keeps its
        own (known) name instead of failing as an invalid custom name."""
        if error_name is not None and error_name.startswith("States."):
            try:
                return states_error_name.StatesErrorName.from_name(error_name)
            except ValueError:
                pass
        return CustomErrorName(error_name=error_name)

    patches.set_attribute(declaration, "_eval_body", eval_body)
    patches.set_attribute(iteration_worker, "CustomErrorName", propagated_error_name)
    patches.set_attribute(branches_decl, "CustomErrorName", propagated_error_name)


# -- 25,000 history events ---------------------------------------------------------------------


def _install_history_limit(patches: InstalledPatches) -> None:
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    original_init = Environment.__init__
    original_add_event = EventManager.add_event
    original_set_error = Environment.set_error
    failure = ExecutionFailedEventDetails(error=HISTORY_LIMIT_ERROR, cause=HISTORY_LIMIT_CAUSE)

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # A frame (Map iteration, Parallel branch) replaces this manager by its parent's,
        # so a manager's owner is the execution's root environment.
        self.event_manager._history_owner = self
        self.event_manager._history_lock = threading.Lock()
        self.event_manager._history_full = False

    def add_event(self: Any, context: Any, event_type: Any, *args: Any, **kwargs: Any) -> int:
        lock = getattr(self, "_history_lock", None)
        if lock is None:
            return original_add_event(self, context, event_type, *args, **kwargs)
        with lock:
            if self._history_full:
                return int(context.last_published_event_id)  # the execution has failed
            at_limit = len(self._history_event_list) + 1 >= MAX_HISTORY_EVENTS
            if not at_limit or getattr(event_type, "value", event_type) in _TERMINAL_EVENTS:
                return original_add_event(self, context, event_type, *args, **kwargs)
            self._history_full = True
            event_id = original_add_event(
                self,
                context,
                HistoryEventType.ExecutionFailed,
                _event_details("executionFailedEventDetails", failure),
            )
        self._history_owner.set_error(failure)
        return int(event_id)

    def set_error(self: Any, error: Any) -> None:
        # Once the history is full, that is the execution's error, whatever fails after.
        if getattr(self.event_manager, "_history_full", False):
            error = failure
        original_set_error(self, error)

    patches.set_attribute(Environment, "__init__", init)
    patches.set_attribute(EventManager, "add_event", add_event)
    patches.set_attribute(Environment, "set_error", set_error)
