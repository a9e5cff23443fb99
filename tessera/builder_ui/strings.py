"""Interface strings of the designers' JavaScript, translated on the server.

The ES modules look strings up by their English text (``t("Add section")``); the page sends
this table, in the request's language, inside its JSON data block.  Keeping the strings here
means gettext extraction and the zh-CN catalogue cover the JavaScript too.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from tessera.engines.definitions.fields.base import OPERATOR_NAMES

#: text shown by the JavaScript, keyed by its English source
STRINGS = {
    "%(n)s columns": _l("%(n)s columns"),
    "%(n)s fields": _l("%(n)s fields"),
    "%(n)s of %(m)s columns": _l("%(n)s of %(m)s columns"),
    "(none)": _l("(none)"),
    "A child table field, or entity.link_field pointing here": _l(
        "A child table field, or entity.link_field pointing here"
    ),
    "Add a view": _l("Add a view"),
    "Add filter": _l("Add filter"),
    "Add menu item": _l("Add menu item"),
    "Add option": _l("Add option"),
    "Add row": _l("Add row"),
    "Add section": _l("Add section"),
    "Add sort": _l("Add sort"),
    "Add tab": _l("Add tab"),
    "Aggregate": _l("Aggregate"),
    "Another entity has this key.": _l("Another entity has this key."),
    "App key": _l("App key"),
    "App name": _l("App name"),
    "Ascending": _l("Ascending"),
    "Board": _l("Board"),
    "Calculated": _l("Calculated"),
    "Calendar": _l("Calendar"),
    "Choose: %(what)s": _l("Choose: %(what)s"),
    "Columns": _l("Columns"),
    "Condition": _l("Condition"),
    "Conditional": _l("Conditional"),
    "Currency": _l("Currency"),
    "Date": _l("Date"),
    "Default sort": _l("Default sort"),
    "Default value": _l("Default value"),
    "Delete": _l("Delete"),
    "Delete field": _l("Delete field"),
    "Delete view": _l("Delete view"),
    "Delete “%(name)s”?": _l("Delete “%(name)s”?"),
    "Delete “%(name)s”? Publishing will ask you to confirm; its table is kept aside until the trash is purged.": _l(  # noqa: E501
        "Delete “%(name)s”? Publishing will ask you to confirm; its table is kept aside until the trash is purged."  # noqa: E501
    ),
    "Department": _l("Department"),
    "Descending": _l("Descending"),
    "Description": _l("Description"),
    "Digits after the point": _l("Digits after the point"),
    "Digits in total": _l("Digits in total"),
    "Direction": _l("Direction"),
    "Drag a field here to take it off the form": _l("Drag a field here to take it off the form"),
    "Drag fields here": _l("Drag fields here"),
    "Drag fields into the columns and into their order.": _l(
        "Drag fields into the columns and into their order."
    ),
    "Drag onto the form, or press to add": _l("Drag onto the form, or press to add"),
    "Drag to move the section": _l("Drag to move the section"),
    "Drag to reorder": _l("Drag to reorder"),
    "Drop files here or choose them": _l("Drop files here or choose them"),
    "Edit the row fields": _l("Edit the row fields"),
    "End date": _l("End date"),
    "Entity": _l("Entity"),
    "Entity key": _l("Entity key"),
    "Every field is shown": _l("Every field is shown"),
    "Field": _l("Field"),
    "Field that names a record": _l("Field that names a record"),
    "Filters": _l("Filters"),
    "Find a field type": _l("Find a field type"),
    "Form": _l("Form"),
    "Form designer": _l("Form designer"),
    "Formula": _l("Formula"),
    "Given when the record is saved": _l("Given when the record is saved"),
    "Group cards by": _l("Group cards by"),
    "Help text": _l("Help text"),
    "Highest rating": _l("Highest rating"),
    "Its fields move to the section above.": _l("Its fields move to the section above."),
    "Its sections move to the first tab.": _l("Its sections move to the first tab."),
    "Key": _l("Key"),
    "Label": _l("Label"),
    "Largest": _l("Largest"),
    "Latitude": _l("Latitude"),
    "Leave empty to always show the field.": _l("Leave empty to always show the field."),
    "Links to": _l("Links to"),
    "Longest text": _l("Longest text"),
    "Longitude": _l("Longitude"),
    "Looks right: gives %(type)s": _l("Looks right: gives %(type)s"),
    "Menu label": _l("Menu label"),
    "Most files": _l("Most files"),
    "Name": _l("Name"),
    "New %(what)s": _l("New %(what)s"),
    "No": _l("No"),
    "No rows yet": _l("No rows yet"),
    "Not on the form": _l("Not on the form"),
    "Not saved": _l("Not saved"),
    "On the form": _l("On the form"),
    "Only records where": _l("Only records where"),
    "Option key": _l("Option key"),
    "Option label": _l("Option label"),
    "Options": _l("Options"),
    "Other fields": _l("Other fields"),
    "Pattern": _l("Pattern"),
    "Plural name": _l("Plural name"),
    "Preview": _l("Preview"),
    "Publishing will ask you to confirm: the column is kept aside, and a rollback brings its data back.": _l(  # noqa: E501
        "Publishing will ask you to confirm: the column is kept aside, and a rollback brings its data back."  # noqa: E501
    ),
    "Read only": _l("Read only"),
    "Read only when": _l("Read only when"),
    "Remove": _l("Remove"),
    "Remove option": _l("Remove option"),
    "Remove section": _l("Remove section"),
    "Remove tab": _l("Remove tab"),
    "Required": _l("Required"),
    "Result": _l("Result"),
    "Row fields": _l("Row fields"),
    "Rows are": _l("Rows are"),
    "Save": _l("Save"),
    "Saved": _l("Saved"),
    "Saving…": _l("Saving…"),
    "Section": _l("Section"),
    "Select a field, a section or a tab to change it.": _l(
        "Select a field, a section or a tab to change it."
    ),
    "Shown": _l("Shown"),
    "Shown as": _l("Shown as"),
    "Smallest": _l("Smallest"),
    "Source": _l("Source"),
    "Tab": _l("Tab"),
    "The key cannot change once the app is published.": _l(
        "The key cannot change once the app is published."
    ),
    "The key needs lowercase letters, digits and single _, starting with a letter (at most 20).": _l(  # noqa: E501
        "The key needs lowercase letters, digits and single _, starting with a letter (at most 20)."
    ),
    "The syntax is right": _l("The syntax is right"),
    "This entity has no views yet. Add one on the left.": _l(
        "This entity has no views yet. Add one on the left."
    ),
    "This is how people will fill in the form. Try it: conditions react to what you enter.": _l(
        "This is how people will fill in the form. Try it: conditions react to what you enter."
    ),
    "Through the link": _l("Through the link"),
    "Title": _l("Title"),
    "Unique": _l("Unique"),
    "Untitled section": _l("Untitled section"),
    "Used in formulas and the API: lowercase letters, digits and _.": _l(
        "Used in formulas and the API: lowercase letters, digits and _."
    ),
    "User": _l("User"),
    "Value": _l("Value"),
    "View": _l("View"),
    "Views": _l("Views"),
    "Visible when": _l("Visible when"),
    "Width": _l("Width"),
    "Yes": _l("Yes"),
    "You can also drag the field.": _l("You can also drag the field."),
    "avg": _l("avg"),
    "boolean": _l("boolean"),
    "calendar": _l("calendar"),
    "count": _l("count"),
    "currency": _l("currency"),
    "date": _l("date"),
    "datetime": _l("datetime"),
    "decimal": _l("decimal"),
    "e.g. QT-{YYYY}-{0000}": _l("e.g. QT-{YYYY}-{0000}"),
    'e.g. status = "open"': _l('e.g. status = "open"'),
    "kanban": _l("kanban"),
    "list": _l("list"),
    "max": _l("max"),
    "min": _l("min"),
    "number": _l("number"),
    "rows of a child table": _l("rows of a child table"),
    "sum": _l("sum"),
    "text": _l("text"),
    "values, separated by commas": _l("values, separated by commas"),
}

#: filter operators, as the view designer names them: the engines' table (their messages
#: name operators by it too), translated here
OPERATORS = {op: _l(name) for op, name in OPERATOR_NAMES.items()}


def strings() -> dict[str, str]:
    """Every string in the current language (operators as ``op:<name>``)."""
    table = {key: str(text) for key, text in STRINGS.items()}
    table.update({f"op:{op}": str(text) for op, text in OPERATORS.items()})
    return table
