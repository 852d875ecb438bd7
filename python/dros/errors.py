"""The error-code table and the exception every layer raises.

Codes are hex strings in the seed's style (`0x000000` = success): `0xGGNNNN`, GG the area
(01 request, 02 auth, 03 resource state, 04 device, 05 DICOM network, 06 storage, 0F internal).
Each code fixes the HTTP status and carries English and Chinese description and solution texts;
README "Error codes" renders this same table.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    status: int
    en: str
    zh: str
    solution_en: str
    solution_zh: str


class ErrorCode(enum.Enum):
    SUCCESS = CodeInfo("0x000000", 200, "Success", "成功", "", "")
    INVALID_PARAMETER = CodeInfo(
        "0x010001",
        400,
        "Invalid parameter",
        "参数无效",
        "Correct the named field and send the request again.",
        "请修正指出的字段后重新提交。",
    )
    MALFORMED_BODY = CodeInfo(
        "0x010002",
        400,
        "Malformed request body",
        "请求体格式错误",
        "Send a valid JSON body with Content-Type: application/json.",
        "请发送有效的 JSON 请求体。",
    )
    INVALID_HEADER = CodeInfo(
        "0x010003",
        400,
        "Invalid request header",
        "请求头无效",
        "Use Language en_US or zh_CN and Product DROS or VETDROS.",
        "Language 请使用 en_US 或 zh_CN，Product 请使用 DROS 或 VETDROS。",
    )
    ROUTE_NOT_FOUND = CodeInfo(
        "0x010004",
        404,
        "No such endpoint",
        "接口不存在",
        "Check the path against the API reference.",
        "请对照接口文档检查路径。",
    )
    METHOD_NOT_ALLOWED = CodeInfo(
        "0x010005",
        405,
        "Method not allowed on this endpoint",
        "该接口不支持此请求方法",
        "Check the HTTP method against the API reference.",
        "请对照接口文档检查请求方法。",
    )
    PAYLOAD_TOO_LARGE = CodeInfo(
        "0x010006",
        413,
        "Request body too large",
        "请求体过大",
        "Send a smaller body.",
        "请减小请求体。",
    )
    UNAUTHENTICATED = CodeInfo(
        "0x020001",
        401,
        "Authentication required",
        "需要登录",
        "Log in and send the token as 'Authorization: Bearer <token>'.",
        "请先登录，并以 'Authorization: Bearer <token>' 发送令牌。",
    )
    TOKEN_INVALID = CodeInfo(
        "0x020002",
        401,
        "Invalid token",
        "令牌无效",
        "Log in again to obtain a new token.",
        "请重新登录获取新令牌。",
    )
    TOKEN_EXPIRED = CodeInfo(
        "0x020003",
        401,
        "Token expired",
        "令牌已过期",
        "Log in again to obtain a new token.",
        "请重新登录获取新令牌。",
    )
    LOGIN_FAILED = CodeInfo(
        "0x020004",
        401,
        "Wrong user name or password",
        "用户名或密码错误",
        "Check the user name and password.",
        "请检查用户名和密码。",
    )
    LOGIN_THROTTLED = CodeInfo(
        "0x020005",
        429,
        "Too many failed logins",
        "登录失败次数过多",
        "Wait a few minutes before trying again.",
        "请稍候几分钟再试。",
    )
    FORBIDDEN = CodeInfo(
        "0x020006",
        403,
        "Not permitted for this user",
        "当前用户无此权限",
        "Log in as a user whose role allows this action.",
        "请使用具有该权限的用户登录。",
    )
    WRONG_PASSWORD = CodeInfo(
        "0x020007",
        400,
        "The old password is wrong",
        "旧密码错误",
        "Enter the current password.",
        "请输入当前密码。",
    )
    PASSWORD_MISMATCH = CodeInfo(
        "0x020008",
        400,
        "The new passwords do not match",
        "两次输入的新密码不一致",
        "Type the same new password twice.",
        "请两次输入相同的新密码。",
    )
    PASSWORD_POLICY = CodeInfo(
        "0x020009",
        400,
        "The new password does not meet the password policy",
        "新密码不符合密码规则",
        "Choose a longer password that differs from the old one.",
        "请设置更长且与旧密码不同的密码。",
    )
    NOT_FOUND = CodeInfo(
        "0x030001",
        404,
        "Not found",
        "未找到",
        "Check the identifier; the item may have been deleted.",
        "请检查标识符，该项可能已被删除。",
    )
    CONFLICT = CodeInfo(
        "0x030002",
        409,
        "Conflict with the current state",
        "与当前状态冲突",
        "Reload the item and try again.",
        "请刷新后重试。",
    )
    LOCKED = CodeInfo(
        "0x030003",
        409,
        "The study is locked",
        "检查已锁定",
        "Unlock the study first.",
        "请先解锁该检查。",
    )
    UNPROCESSABLE = CodeInfo(
        "0x030004",
        422,
        "The request cannot be carried out in the current state",
        "当前状态下无法执行该请求",
        "Check the item's state.",
        "请检查当前状态。",
    )
    DEVICE_NOT_READY = CodeInfo(
        "0x040001",
        503,
        "Device not ready",
        "设备未就绪",
        "Check the generator and detector status and interlocks.",
        "请检查高压发生器、探测器状态及联锁。",
    )
    DEVICE_BUSY = CodeInfo(
        "0x040002",
        409,
        "An exposure is already running",
        "曝光正在进行中",
        "Wait for the running exposure to finish.",
        "请等待当前曝光结束。",
    )
    DEVICE_ERROR = CodeInfo(
        "0x040003",
        503,
        "Device error",
        "设备错误",
        "See the device error list; call service if it persists.",
        "请查看设备错误列表，如持续请联系维修。",
    )
    PACS_FAILURE = CodeInfo(
        "0x050001",
        503,
        "PACS communication failed",
        "PACS 通信失败",
        "Check the PACS node address, port and AE titles, then retry.",
        "请检查 PACS 节点地址、端口和 AE 名称后重试。",
    )
    STORAGE_FULL = CodeInfo(
        "0x060001",
        507,
        "Not enough disk space",
        "磁盘空间不足",
        "Empty the recycle bin or archive studies.",
        "请清空回收站或归档检查。",
    )
    INTERNAL = CodeInfo(
        "0x0F0001",
        500,
        "Internal error",
        "内部错误",
        "Try again; if it persists, report the request id to service.",
        "请重试；如持续出现，请将请求 ID 报告给维修人员。",
    )

    @property
    def info(self) -> CodeInfo:
        return self.value


class DrosError(Exception):
    """An error with a code from the table, an optional field name and a localized detail."""

    def __init__(
        self,
        code: ErrorCode,
        *,
        field: str | None = None,
        en: str | None = None,
        zh: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.field = field
        self.en = en
        self.zh = zh
        self.data = data or {}
        super().__init__(self.describe("en_US"))

    def describe(self, language: str) -> str:
        info = self.code.info
        base = info.zh if language == "zh_CN" else info.en
        detail = (self.zh or self.en) if language == "zh_CN" else (self.en or self.zh)
        sep = "：" if language == "zh_CN" else ": "
        if self.field and detail:
            return (
                f"{base}{sep}{self.field}{sep}{detail}"
                if language == "zh_CN"
                else f"{base}{sep}'{self.field}' {detail}"
            )
        if self.field:
            return f"{base}{sep}{self.field}"
        return f"{base}{sep}{detail}" if detail else base

    def solution(self, language: str) -> str:
        info = self.code.info
        return info.solution_zh if language == "zh_CN" else info.solution_en


def invalid_param(field: str, en: str, zh: str | None = None) -> DrosError:
    return DrosError(ErrorCode.INVALID_PARAMETER, field=field, en=en, zh=zh)


def not_found(field: str, value: object) -> DrosError:
    return DrosError(
        ErrorCode.NOT_FOUND, field=field, en=f"no item with this value: {value!r}", zh=f"不存在该值对应的项：{value!r}"
    )


def conflict(en: str, zh: str, *, field: str | None = None) -> DrosError:
    return DrosError(ErrorCode.CONFLICT, field=field, en=en, zh=zh)


class ClientInputError(Exception):
    """A ValueError that the imaging core raised about data the client sent as `field`;
    `dros.exception_handlers` answers it with 0x010001 naming the field."""

    def __init__(self, field: str, cause: Exception) -> None:
        self.field = field
        self.cause = cause
        super().__init__(f"{field}: {cause}")


@contextmanager
def client_input(field: str) -> Iterator[None]:
    """Wrap the call that hands the client's `field` (an image, a frame) to `dros.imaging`: its refusal
    (`CoreValueError`, or the ValueError of the shape checks) is then the client's fault, a 4xx naming
    the field. The same error from data the service built itself stays an internal error, and so does a
    TypeError (a wrong dtype or call is the service's own doing)."""
    try:
        yield
    except ValueError as exc:
        raise ClientInputError(field, exc) from exc
