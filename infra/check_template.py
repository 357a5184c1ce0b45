"""Checks infra/stedi-lakehouse.yaml offline: cfn-lint, checkov and parliament, no findings allowed.

Runs in its own venv (.venv-infra, from requirements-infra.lock: these tools pin versions that
clash with dbt's), so it imports nothing of stedi_lakehouse. A finding that is accepted is
justified in the template itself: a checkov skip with its comment in the resource's Metadata.
checkov runs on a copy without the skips, and its findings must be exactly the skips: a finding
not justified fails, and so does a skip that no longer matches a finding.
Parliament reads IAM policies, not templates, so every policy of the template (the roles' inline
policies and the bucket policies) is first resolved with the parameters' defaults in a dummy
account, region and partition. The roles' trust policies are left to checkov: they name no
Resource (the role is the resource), which parliament reads as a malformed identity policy.
Parliament must first find the mistakes of a known-bad policy, so a parliament that checks
nothing cannot pass.

Usage: .venv-infra/bin/python infra/check_template.py infra/stedi-lakehouse.yaml
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cfnlint.decode import decode
from parliament import analyze_policy_string, enhance_finding

ACCOUNT, REGION, PARTITION = "123456789012", "eu-west-1", "aws"
BIN = Path(sys.executable).parent
SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


class Resolver:
    """Resolves the intrinsic functions the template uses, with the parameters' defaults."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.values: dict[str, Any] = {
            "AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": PARTITION,
            **{name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()},
        }

    def ref(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        resource = self.template["Resources"][name]
        if resource["Type"] == "AWS::S3::Bucket":  # Ref of a bucket is its name
            return self.resolve(resource["Properties"]["BucketName"])
        raise ValueError(f"Ref {name}: not resolvable offline")

    def get_att(self, name: str, attribute: str) -> str:
        resource = self.template["Resources"][name]
        if resource["Type"] == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:{PARTITION}:s3:::{self.ref(name)}"
        if resource["Type"] == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:{PARTITION}:iam::{ACCOUNT}:role/{self.resolve(resource['Properties']['RoleName'])}"
        raise ValueError(f"GetAtt {name}.{attribute}: not resolvable offline")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def substitute(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match[1]
            if "." in name and name.split(".")[0] in self.template["Resources"]:
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", value, text)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (function, argument), = node.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::Sub":
                return self.substitute(argument)
            if function == "Fn::GetAtt":
                return self.get_att(*(argument if isinstance(argument, list) else argument.split(".", 1)))
            if function == "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.condition(name) else when_false)
            if function == "Fn::Equals":
                return self.resolve(argument[0]) == self.resolve(argument[1])
            if function == "Fn::Not":
                return not self.resolve(argument[0])
            if function.startswith("Fn::"):
                raise ValueError(f"{function}: not resolvable offline")
        return {key: self.resolve(value) for key, value in node.items()}


def policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every IAM policy of the template, resolved, by '<resource>/<policy>'."""
    resolver = Resolver(template)
    found = {}
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                found[f"{name}/{policy['PolicyName']}"] = resolver.resolve(policy["PolicyDocument"])
        elif resource["Type"] in {"AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::S3::BucketPolicy"}:
            found[name] = resolver.resolve(properties["PolicyDocument"])
    return found


# one mistake a statement: a misspelt action, a bucket action on an object ARN, a condition key
# the action does not have, a role passed to anything
KNOWN_BAD_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::bucket/*"},
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bucket/*"},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*",
     "Condition": {"StringEquals": {"s3:x-amz-acl": "private"}}},
    {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
]}


def parliament_findings(name: str, document: dict[str, Any]) -> list[str]:
    policy = analyze_policy_string(json.dumps(document), name, include_community_auditors=True)
    return [
        f"{name}: {finding.severity} {finding.issue} {finding.detail}"
        for finding in map(enhance_finding, policy.findings)
        if SEVERITIES.index(finding.severity) >= SEVERITIES.index("INFO")
    ]


def start(tool: str, *args: str) -> tuple[subprocess.Popen[str], float]:
    process = subprocess.Popen([str(BIN / tool), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return process, time.monotonic()


def cfn_lint_result(process: subprocess.Popen[str], started: float) -> bool:
    output, _ = process.communicate()
    passed = process.returncode == 0
    print(f"cfn-lint: {'clean' if passed else 'FINDINGS'} ({time.monotonic() - started:.0f} s)")
    if not passed:
        print(output[-8000:])
    return passed


def justified_skips(template: dict[str, Any]) -> set[tuple[str, str]]:
    """(check id, resource) of every checkov skip written with its comment in a resource's Metadata."""
    return {
        (skip["id"], f"{resource['Type']}.{name}")
        for name, resource in template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }


def without_skips(template: dict[str, Any], folder: Path) -> Path:
    """The template as JSON with no checkov skip, so that checkov reports every finding."""
    bare = json.loads(json.dumps(template))
    for resource in bare["Resources"].values():
        resource.get("Metadata", {}).pop("checkov", None)
    path = folder / "template-without-skips.json"
    path.write_text(json.dumps(bare))
    return path


def checkov_result(process: subprocess.Popen[str], started: float, justified: set[tuple[str, str]]) -> bool:
    """Every finding is justified in the template, and every justification is of a finding."""
    output, _ = process.communicate()
    try:
        report = json.loads(output)
        failed = {(check["check_id"], check["resource"]) for check in report["results"]["failed_checks"]}
        passed = report["summary"]["passed"]
    except (ValueError, KeyError, TypeError):
        print(f"checkov: no report ({time.monotonic() - started:.0f} s)\n{output[-4000:]}")
        return False
    unjustified, stale = sorted(failed - justified), sorted(justified - failed)
    verdict = "clean" if not unjustified and not stale else "FINDINGS"
    print(f"checkov: {verdict} ({time.monotonic() - started:.0f} s): {passed} checks passed, "
          f"{len(failed & justified)} findings justified in the template")
    for check, resource in unjustified:
        print(f"  {check} on {resource}: not justified (fix it, or skip it with a comment in the resource's Metadata)")
    for check, resource in stale:
        print(f"  {check} on {resource}: skipped in the template but not a finding (remove the skip)")
    return verdict == "clean"


def check_policies(template: dict[str, Any]) -> bool:
    started = time.monotonic()
    if len(parliament_findings("known-bad", KNOWN_BAD_POLICY)) < len(KNOWN_BAD_POLICY["Statement"]):
        print("parliament: missed the mistakes of a known-bad policy, so it checks nothing here")
        return False
    resolved = policies(template)
    findings = [finding for name, document in resolved.items() for finding in parliament_findings(name, document)]
    print(f"parliament: {'clean' if not findings else 'FINDINGS'} ({time.monotonic() - started:.0f} s, "
          f"{len(resolved)} policies, community auditors included)")
    for finding in findings:
        print(f"  {finding}")
    return not findings


def main(template_path: Path) -> int:
    template, matches = decode(str(template_path))
    if template is None:
        print(f"{template_path}: does not parse: {matches}")
        return 1
    with tempfile.TemporaryDirectory(prefix="stedi-infra-check-") as scratch:
        # the two linters run side by side, parliament meanwhile in this process;
        # --skip-download: no call to checkov's vendor platform (guidelines, custom policies)
        cfn_lint = start("cfn-lint", str(template_path))
        checkov = start("checkov", "--file", str(without_skips(template, Path(scratch))), "--framework", "cloudformation",
                        "--skip-download", "--output", "json", "--quiet")
        results = [check_policies(template), cfn_lint_result(*cfn_lint), checkov_result(*checkov, justified_skips(template))]
    return 0 if all(results) else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.strip().splitlines()[-1])
    sys.exit(main(Path(sys.argv[1])))
