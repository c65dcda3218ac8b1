"""A small fixed corpus about an invented town, with queries whose right passage is known."""

from __future__ import annotations

PASSAGES: list[dict[str, str]] = [
    {
        "id": "harbour",
        "title": "The harbour",
        "text": "Varnholm's harbour shelters forty fishing boats. The harbour master, Ilse "
        "Brandt, rings a brass bell at six each morning to open the quay.",
    },
    {
        "id": "festival",
        "title": "Lantern festival",
        "text": "The lantern festival is held on the second Saturday of October. Children "
        "float paper lanterns down the Sell river at dusk.",
    },
    {
        "id": "bakery",
        "title": "Bakery",
        "text": "The only bakery in town, Mott & Daughters, is famous for rye bread with "
        "caraway seeds. It closes on Mondays.",
    },
    {
        "id": "mayor",
        "title": "Town council",
        "text": "Mayor Tobias Wren has led the town council since 2019. The council meets "
        "in the old customs house every first Tuesday.",
    },
    {
        "id": "lighthouse",
        "title": "Lighthouse",
        "text": "The lighthouse on Gull Point was built in 1887 from grey granite. Its lamp "
        "can be seen thirty kilometres out at sea.",
    },
    {
        "id": "school",
        "title": "School",
        "text": "Varnholm school teaches 212 pupils. Its headteacher keeps a greenhouse "
        "where pupils grow tomatoes and chilli peppers.",
    },
    {
        "id": "railway",
        "title": "Railway",
        "text": "A narrow-gauge railway links Varnholm to Ostmark. The steam train departs "
        "twice a day and the journey takes ninety minutes.",
    },
    {
        "id": "football",
        "title": "Football",
        "text": "The football club, Varnholm Rovers, plays in green shirts. Their stadium "
        "holds three thousand supporters.",
    },
    {
        "id": "museum",
        "title": "Museum",
        "text": "The maritime museum displays a whale skeleton and ship models carved by "
        "sailors. Entry is free on Sundays.",
    },
    {
        "id": "cheese",
        "title": "Cheese",
        "text": "Farmers on the northern hills make a blue cheese aged in limestone caves "
        "for eleven months.",
    },
]

#: (query, id of the passage that answers it)
QUERIES: list[tuple[str, str]] = [
    ("Who rings the brass bell at the harbour?", "harbour"),
    ("When is the lantern festival?", "festival"),
    ("Which day is the bakery closed?", "bakery"),
    ("Who is the mayor?", "mayor"),
    ("When was the lighthouse built?", "lighthouse"),
    ("How many pupils does the school teach?", "school"),
    ("How long does the steam train journey take?", "railway"),
    ("What colour are the football shirts?", "football"),
    ("What does the maritime museum display?", "museum"),
    ("How long is the blue cheese aged in caves?", "cheese"),
]
