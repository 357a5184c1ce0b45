{#
    Rule R0: a malformed landing line is skipped, never fatal, but it must be
    seen. Returns one row per landing file with malformed lines and their
    count; dbt's warning counts the lines (fail_calc), and the on-run-end hook
    report_landing_problems prints each file with its count.
#}
{% test landing_lines_are_well_formed(model) %}

{{ config(fail_calc='coalesce(sum(malformed_lines), 0)') }}

select
    landing_file,
    count(*) as malformed_lines

from {{ model }}
where is_malformed
group by landing_file

{% endtest %}
