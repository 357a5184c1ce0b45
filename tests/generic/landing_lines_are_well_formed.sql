{#
    Rule R0: a malformed landing line is skipped, never fatal, but it must be
    seen. Returns one row per landing file with malformed lines and their
    count; configured with severity warn, so a build reports them and goes on.
#}
{% test landing_lines_are_well_formed(model) %}

select
    landing_file_path,
    count(*) as malformed_lines

from {{ model }}
where is_malformed
group by landing_file_path

{% endtest %}
