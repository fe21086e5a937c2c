"""Arranging enrollments: a pupil, schools, and the enrollment mutations' documents."""

from __future__ import annotations

from typing import Any

from tests.conftest import Hub

ENROLLMENT_FIELDS = """
  id sector entryDate exitDate exitReason gradeLevel classGroup isCurrent
  person { id } institution { id }
  previousEnrollment { id exitDate exitReason }
"""

ENROLL_STUDENT = f"""
mutation EnrollStudent($input: EnrollStudentInput!) {{
  enrollStudent(input: $input) {{
    enrollment {{ {ENROLLMENT_FIELDS} }}
    userErrors {{ field code message }}
  }}
}}
"""

TRANSFER_STUDENT = f"""
mutation TransferStudent($input: TransferStudentInput!) {{
  transferStudent(input: $input) {{
    enrollment {{ {ENROLLMENT_FIELDS} }}
    userErrors {{ field code message }}
  }}
}}
"""

WITHDRAW_STUDENT = f"""
mutation WithdrawStudent($input: WithdrawStudentInput!) {{
  withdrawStudent(input: $input) {{
    enrollment {{ {ENROLLMENT_FIELDS} }}
    userErrors {{ field code message }}
  }}
}}
"""


async def run_mutation(
    hub: Hub, document: str, name: str, token: str, **values: Any
) -> dict[str, Any]:
    """Run an enrollment mutation that must not fail at the top level; return its payload."""
    data = await hub.data(document, {"input": values}, token=token)
    payload: dict[str, Any] = data[name]
    return payload
